package org.lrdkt.onnx;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import org.lrdkt.LrdktException;

/**
 * Writes files so that a reader (or a user after a crash) sees either the previous complete file or the new
 * complete one, never a half-written one: write a hidden temp file in the same folder, force it to disk, rename.
 * The file ends up with the permissions an ordinary write gives it: those of the file it replaces, else the ones
 * the umask (and the folder's default ACL) give a new file.
 */
public final class AtomicFiles {

    /** Writes the content of one file. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException, LrdktException;
    }

    private AtomicFiles() {
    }

    public static void write(Path target, Writer writer) throws LrdktException {
        Path absolute = target.toAbsolutePath().normalize();
        Path dir = absolute.getParent();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot create folder " + dir + ": " + e.getMessage(), e);
        }
        if (Files.isDirectory(absolute)) {
            throw LrdktException.usage("output " + target + " is a folder; expected a file path");
        }
        Path temp = null;
        try {
            temp = createTemp(dir, absolute.getFileName().toString());
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE);
                 OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 20)) {
                writer.write(out);
                out.flush();
                channel.force(true);
            }
            keepPermissionsOfReplaced(absolute, temp);
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            temp = null;
        } catch (IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot write " + target + ": " + e.getMessage(), e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // the temp file is hidden and named after the target; nothing more to do
                }
            }
        }
    }

    /**
     * A new hidden file beside the target, created the way an ordinary output is (not with
     * {@code Files.createTempFile}, whose 0600 mode the rename would carry over to the output).
     */
    private static Path createTemp(Path dir, String targetName) throws IOException {
        while (true) {
            Path temp = dir.resolve("." + targetName + "." + Long.toUnsignedString(ThreadLocalRandom.current()
                    .nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(temp);
            } catch (FileAlreadyExistsException e) {
                // another writer drew the same name; draw again
            }
        }
    }

    /** Rewriting a file keeps its mode, as writing into it in place would. */
    private static void keepPermissionsOfReplaced(Path target, Path temp) throws IOException {
        if (!Files.isRegularFile(target)) {
            return;
        }
        try {
            Files.setPosixFilePermissions(temp, Files.getPosixFilePermissions(target));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the new file keeps the defaults it was created with
        }
    }

    public static void writeString(Path target, String content) throws LrdktException {
        write(target, out -> out.write(content.getBytes(StandardCharsets.UTF_8)));
    }

    /** Refuses to write over the input; compares resolved paths so that links and ./ tricks are caught. */
    public static void checkNotSameFile(Path input, Path output) throws LrdktException {
        Path in = input.toAbsolutePath().normalize();
        Path out = output.toAbsolutePath().normalize();
        boolean same = in.equals(out);
        if (!same && Files.exists(in) && Files.exists(out)) {
            try {
                same = Files.isSameFile(in, out);
            } catch (IOException e) {
                same = false;
            }
        }
        if (same) {
            throw LrdktException.usage("output " + output + " is the input file; refusing to overwrite the input");
        }
    }
}

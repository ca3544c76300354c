package org.lrdkt.onnx;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.lrdkt.LrdktException;

/**
 * Model files are read through memory maps that stay in use long after loading: tensors alias the file's pages
 * instead of copying them. When another process truncates such a file, the next read of a page past its new end
 * faults, and the JVM turns that SIGBUS into an {@link InternalError} in whatever code touched the page. This class
 * remembers what it mapped, so that the fault can be reported as what it is: an input that changed under lrdkt.
 */
public final class MappedFiles {

    /** A file as it was when mapped; its key (device, inode) tells a file rewritten in place from one replaced. */
    private record Mapped(Object fileKey, long size, FileTime modified) {

        static Mapped of(Path file) throws IOException {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return new Mapped(attributes.fileKey(), attributes.size(), attributes.lastModifiedTime());
        }

        /**
         * Whether the file at the same path is this one, changed. A file deleted or replaced by a rename is not: the
         * mapping keeps the old inode's pages whole.
         */
        boolean changedIn(Path file) {
            try {
                Mapped now = of(file);
                return Objects.equals(fileKey, now.fileKey) && !equals(now);
            } catch (IOException e) {
                return false;
            }
        }
    }

    /** Every file mapped by this process, by absolute path, as it was when mapped (the latest mapping wins). */
    private static final Map<Path, Mapped> MAPPED = new ConcurrentHashMap<>();

    private MappedFiles() {
    }

    /** Maps the whole file open in {@code channel} read-only and remembers its size and modification time. */
    static MappedByteBuffer map(Path file, FileChannel channel) throws IOException {
        MAPPED.put(file.toAbsolutePath().normalize(), Mapped.of(file));
        return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
    }

    /** Whether {@code e}, or one of its causes, is the JVM's report of a fault while reading mapped memory. */
    public static boolean isReadFault(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            // HotSpot: "a fault occurred in [a recent] unsafe memory access operation [in compiled Java code]"
            if (t instanceof InternalError && String.valueOf(t.getMessage()).contains("unsafe memory access")) {
                return true;
            }
        }
        return false;
    }

    /** The one-line error for such a fault, naming the mapped files that were changed in place. */
    public static LrdktException changedWhileRead(Throwable fault) {
        List<String> changed = new ArrayList<>();
        MAPPED.forEach((file, mapped) -> {
            if (mapped.changedIn(file)) {
                changed.add(file.toString());
            }
        });
        String which = changed.isEmpty() ? "an input model" : "input " + String.join(", ", changed.stream().sorted()
                .toList());
        return new LrdktException(LrdktException.Kind.BAD_INPUT, which + " changed while lrdkt read it (truncated "
                + "or rewritten by another process); start again once it is complete", fault);
    }
}

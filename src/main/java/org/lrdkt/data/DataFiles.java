package org.lrdkt.data;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.lrdkt.LrdktException;

/** Reading data files whole, gzipped or not (decided by the gzip magic, not the file name). */
final class DataFiles {

    private DataFiles() {
    }

    static byte[] readMaybeGzip(Path file) throws LrdktException {
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw LrdktException.badInput("data file " + file + " does not exist");
        } catch (IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot read " + file + ": " + e.getMessage(), e);
        }
        if (raw.length < 2 || (raw[0] & 0xff) != 0x1f || (raw[1] & 0xff) != 0x8b) {
            return raw;
        }
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length * 4);
            in.transferTo(out);
            return out.toByteArray();
        } catch (EOFException e) {
            throw LrdktException.badInput(file + " is a truncated gzip file");
        } catch (ZipException e) {
            throw LrdktException.badInput(file + " is not a valid gzip file (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot decompress " + file + ": " + e.getMessage(), e);
        }
    }
}

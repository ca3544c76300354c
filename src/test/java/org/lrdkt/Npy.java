package org.lrdkt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/** Writes NumPy {@code .npy} files for tests, in any header version, byte order and element type. */
public final class Npy {

    private Npy() {
    }

    /** A .npy file: {@code descr} like "&lt;f4", {@code shape} like "2, 3", {@code data} the raw elements. */
    public static byte[] bytes(String descr, boolean fortran, String shape, ByteBuffer data, int version) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': ("
                + shape + "), }";
        int prefix = version == 1 ? 10 : 12;
        int padded = ((prefix + dict.length() + 1 + 63) / 64) * 64 - prefix;
        String header = dict + " ".repeat(padded - dict.length() - 1) + "\n";
        ByteBuffer b = ByteBuffer.allocate(prefix + padded + data.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
        if (version == 1) {
            b.putShort((short) padded);
        } else {
            b.putInt(padded);
        }
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        data.rewind();
        return b.put(data).array();
    }

    /** Little-endian float32 values of the given shape, written to {@code file}. */
    public static Path writeFloats(Path file, long[] shape, float[] values) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(values);
        String dims = Arrays.stream(shape).mapToObj(Long::toString)
                .collect(Collectors.joining(", "));
        return Files.write(file, bytes("<f4", false, shape.length == 1 ? dims + "," : dims, data, 1));
    }
}

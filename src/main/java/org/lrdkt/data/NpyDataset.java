package org.lrdkt.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.lrdkt.LrdktException;
import org.lrdkt.TextTable;

/**
 * Unlabelled input tensors in one NumPy {@code .npy} file (format versions 1–3): shape (N, sample...), C order,
 * dtype float32, float64 or uint8, either byte order. Fed as stored apart from scale and mean/std (channel axis:
 * the first sample axis for NCHW, the last for NHWC); used for agreement-only runs.
 */
public final class NpyDataset extends LoadedDataset {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=]?)([a-zA-Z])(\\d+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Element types we read. */
    private enum DType {
        FLOAT32(4), FLOAT64(8), UINT8(1);

        final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }
    }

    private final ByteBuffer data;
    private final DType type;
    private final long[] sampleShape;
    private final int channelAxis;
    private final int sampleLength;

    private NpyDataset(ByteBuffer data, DType type, long[] shape, Preprocessing preprocessing, String description)
            throws LrdktException {
        super(Math.toIntExact(shape[0]), Arrays.copyOfRange(shape, 1, shape.length), null, preprocessing,
                description);
        this.data = data;
        this.type = type;
        this.sampleShape = sampleShape();
        this.sampleLength = sampleLength();
        this.channelAxis = sampleShape.length == 3
                ? (preprocessing.layout() == Preprocessing.Layout.NCHW ? 0 : 2) : -1;
        if (preprocessing.mean().length > 1 || preprocessing.std().length > 1) {
            if (channelAxis < 0) {
                throw LrdktException.usage("per-channel --mean/--std need 3-D samples (C,H,W or H,W,C); the tensors "
                        + "have sample shape " + TextTable.dims(sampleShape));
            }
            preprocessing.checkChannels((int) sampleShape[channelAxis]);
        }
    }

    public static NpyDataset load(Path file, Preprocessing preprocessing) throws LrdktException {
        byte[] bytes = DataFiles.readMaybeGzip(file);
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes.length <= i || bytes[i] != MAGIC[i]) {
                throw LrdktException.badInput(file + " is not a .npy file (bad magic; expected \\x93NUMPY)");
            }
        }
        if (bytes.length < 10) {
            throw LrdktException.badInput(file + ": .npy header is truncated");
        }
        int major = bytes[6] & 0xff;
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength;
        int headerStart;
        if (major == 1) {
            headerLength = b.getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) {
                throw LrdktException.badInput(file + ": .npy header is truncated");
            }
            headerLength = b.getInt(8);
            headerStart = 12;
        } else {
            throw LrdktException.unsupported(file + ": .npy format version " + major + " is not supported (1, 2, 3)");
        }
        if (headerLength < 0 || headerStart + (long) headerLength > bytes.length) {
            throw LrdktException.badInput(file + ": .npy header is truncated");
        }
        String header = new String(bytes, headerStart, headerLength,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher descr = DESCR.matcher(header);
        Matcher fortran = FORTRAN.matcher(header);
        Matcher shapeMatch = SHAPE.matcher(header);
        if (!descr.find() || !fortran.find() || !shapeMatch.find()) {
            throw LrdktException.badInput(file + ": .npy header is not a dict with 'descr', 'fortran_order' and "
                    + "'shape': " + header.strip());
        }
        if (fortran.group(1).equals("True")) {
            throw LrdktException.unsupported(file + ": .npy array is in Fortran order; save it in C order "
                    + "(numpy.ascontiguousarray)");
        }
        String typeCode = descr.group(2) + descr.group(3);
        DType type = switch (typeCode) {
            case "f4" -> DType.FLOAT32;
            case "f8" -> DType.FLOAT64;
            case "u1" -> DType.UINT8;
            default -> throw LrdktException.unsupported(file + ": .npy dtype '" + descr.group(1) + typeCode
                    + "' is not supported; expected float32 (<f4), float64 (<f8) or uint8 (|u1)");
        };
        long[] shape = parseShape(file, shapeMatch.group(1));
        long elements = 1;
        for (long d : shape) {
            elements *= d;
        }
        long dataStart = headerStart + (long) headerLength;
        long expected = elements * type.bytes;
        long actual = bytes.length - dataStart;
        if (actual != expected) {
            throw LrdktException.badInput(file + ": .npy header promises shape " + TextTable.dims(shape)
                    + " (" + expected + " bytes) but " + (actual < expected ? "the file is truncated (" :
                    "the file has extra data (") + actual + " bytes)");
        }
        ByteOrder order = descr.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) dataStart, (int) actual).slice().order(order);
        Preprocessing p = new Preprocessing(preprocessing.scale() != null ? preprocessing.scale()
                : type == DType.UINT8 ? 1.0 / 255 : 1.0, preprocessing.mean(), preprocessing.std(), 0, 0, 0,
                preprocessing.layout(), 0);
        return new NpyDataset(data, type, shape, p, ".npy " + file.getFileName() + ": " + shape[0] + " tensors "
                + TextTable.dims(Arrays.copyOfRange(shape, 1, shape.length)) + " "
                + type.name().toLowerCase() + ", unlabelled");
    }

    private static long[] parseShape(Path file, String text) throws LrdktException {
        String[] parts = text.split(",");
        List<Long> dims = new ArrayList<>();
        for (String part : parts) {
            if (part.isBlank()) {
                continue;
            }
            try {
                long d = Long.parseLong(part.strip().replaceAll("L$", ""));
                if (d < 0) {
                    throw new NumberFormatException();
                }
                dims.add(d);
            } catch (NumberFormatException e) {
                throw LrdktException.badInput(file + ": .npy shape (" + text + ") is not a tuple of sizes");
            }
        }
        if (dims.size() < 2 || dims.get(0) == 0) {
            throw LrdktException.badInput(file + ": .npy shape (" + text + ") must be (N, sample dims...) with N > 0");
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }




    @Override
    public void fill(int index, float[] target, int offset) {
        long base = (long) index * sampleLength;
        int inner = 1;
        int channels = 1;
        if (channelAxis >= 0) {
            channels = (int) sampleShape[channelAxis];
            inner = channelAxis == 0 ? (int) (sampleShape[1] * sampleShape[2]) : 1;
        }
        for (int i = 0; i < sampleLength; i++) {
            int element = Math.toIntExact(base + i);
            double raw = switch (type) {
                case FLOAT32 -> data.getFloat(element * 4);
                case FLOAT64 -> data.getDouble(element * 8);
                case UINT8 -> data.get(element) & 0xff;
            };
            int channel = channelAxis < 0 ? 0 : (i / inner) % channels;
            target[offset + i] = preprocessing().apply(raw, channel);
        }
    }


}

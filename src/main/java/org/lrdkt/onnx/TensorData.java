package org.lrdkt.onnx;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto.DataType;

/**
 * Converts ONNX tensors to and from Java arrays. Reads both storage forms real exporters use ({@code raw_data},
 * little-endian, and the typed repeated fields) for FLOAT, FLOAT16, BFLOAT16 and DOUBLE weights and INT32/INT64
 * shape tensors. Every size a file claims is checked against the bytes it actually holds before allocating.
 */
public final class TensorData {

    private TensorData() {
    }

    /** Number of elements a tensor with these dims holds; refuses negative dims and overflow. */
    public static long elementCount(String name, long[] dims) throws LrdktException {
        long count = 1;
        for (long d : dims) {
            if (d < 0) {
                throw LrdktException.badInput("tensor '" + name + "' has a negative dimension " + Arrays.toString(dims));
            }
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException e) {
                throw LrdktException.badInput("tensor '" + name + "' has dimensions whose product overflows "
                        + Arrays.toString(dims));
            }
        }
        return count;
    }

    public static long[] dims(TensorProto t) {
        return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
    }

    public static boolean isFloatingPoint(int dataType) {
        return dataType == DataType.FLOAT_VALUE || dataType == DataType.FLOAT16_VALUE
                || dataType == DataType.BFLOAT16_VALUE || dataType == DataType.DOUBLE_VALUE;
    }

    /** The tensor's values as floats (FLOAT, FLOAT16, BFLOAT16, DOUBLE). External data must already be inlined. */
    public static float[] toFloats(TensorProto t) throws LrdktException {
        float[] out = new float[checkedFloatCount(t)]; // checked against what the file holds before allocating
        decodeFloats(t, FloatBuffer.wrap(out));
        return out;
    }

    /**
     * Decodes the tensor's values into {@code out} (from its position; it must have room for exactly the tensor's
     * elements), e.g. native memory for LAPACK, without an intermediate Java array.
     */
    public static void toFloats(TensorProto t, FloatBuffer out) throws LrdktException {
        int count = checkedFloatCount(t);
        if (out.remaining() != count) {
            throw new IllegalArgumentException("tensor '" + t.getName() + "' has " + count + " values; the buffer has "
                    + "room for " + out.remaining());
        }
        decodeFloats(t, out.duplicate());
    }

    /** The element count of a floating-point tensor, checked against the values or bytes it holds. */
    private static int checkedFloatCount(TensorProto t) throws LrdktException {
        String name = t.getName();
        int count = arrayLength(name, elementCount(name, dims(t)));
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw new IllegalStateException("external data of '" + name + "' was not inlined at load time");
        }
        if (t.hasRawData()) {
            checkLength(name, t.getRawData().size(), (long) count * floatByteWidth(name, t.getDataType()));
        } else {
            checkLength(name, typedCount(t), count);
        }
        return count;
    }

    private static void decodeFloats(TensorProto t, FloatBuffer out) {
        int count = out.remaining();
        int type = t.getDataType();
        if (t.hasRawData()) {
            ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            switch (type) {
                case DataType.FLOAT_VALUE -> out.put(raw.asFloatBuffer());
                case DataType.DOUBLE_VALUE -> {
                    for (int i = 0; i < count; i++) {
                        out.put((float) raw.getDouble());
                    }
                }
                case DataType.FLOAT16_VALUE -> {
                    for (int i = 0; i < count; i++) {
                        out.put(halfToFloat(raw.getShort()));
                    }
                }
                default -> { // BFLOAT16: the high half of a float32
                    for (int i = 0; i < count; i++) {
                        out.put(Float.intBitsToFloat((raw.getShort() & 0xffff) << 16));
                    }
                }
            }
            return;
        }
        switch (type) {
            case DataType.FLOAT_VALUE -> {
                for (int i = 0; i < count; i++) {
                    out.put(t.getFloatData(i));
                }
            }
            case DataType.DOUBLE_VALUE -> {
                for (int i = 0; i < count; i++) {
                    out.put((float) t.getDoubleData(i));
                }
            }
            case DataType.FLOAT16_VALUE, DataType.BFLOAT16_VALUE -> {
                boolean half = type == DataType.FLOAT16_VALUE;
                for (int i = 0; i < count; i++) {
                    int bits = t.getInt32Data(i) & 0xffff;
                    out.put(half ? halfToFloat((short) bits) : Float.intBitsToFloat(bits << 16));
                }
            }
            default -> throw new IllegalStateException("unreachable: type checked by checkedFloatCount");
        }
    }

    /** The tensor's values as longs (INT64 or INT32), e.g. a Reshape target. */
    public static long[] toLongs(TensorProto t) throws LrdktException {
        String name = t.getName();
        int count = arrayLength(name, elementCount(name, dims(t)));
        int type = t.getDataType();
        if (type != DataType.INT64_VALUE && type != DataType.INT32_VALUE) {
            throw LrdktException.unsupported("tensor '" + name + "' has data type " + DataType.forNumber(type)
                    + "; expected INT64 or INT32");
        }
        int width = type == DataType.INT64_VALUE ? 8 : 4;
        if (t.hasRawData()) {
            checkLength(name, t.getRawData().size(), (long) count * width);
        } else {
            checkLength(name, type == DataType.INT64_VALUE ? t.getInt64DataCount() : t.getInt32DataCount(), count);
        }
        long[] out = new long[count];
        if (t.hasRawData()) {
            ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                out[i] = width == 8 ? raw.getLong() : raw.getInt();
            }
        } else if (type == DataType.INT64_VALUE) {
            for (int i = 0; i < count; i++) {
                out[i] = t.getInt64Data(i);
            }
        } else {
            for (int i = 0; i < count; i++) {
                out[i] = t.getInt32Data(i);
            }
        }
        return out;
    }

    /** A tensor holding {@code values} with the given dims, stored as {@code raw_data} in {@code dataType}. */
    public static TensorProto fromFloats(String name, long[] dims, float[] values, int dataType) {
        long expected = Arrays.stream(dims).reduce(1, Math::multiplyExact);
        if (expected != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + values.length + " values for dims "
                    + Arrays.toString(dims));
        }
        ByteBuffer buf;
        switch (dataType) {
            case DataType.FLOAT_VALUE -> {
                buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                buf.asFloatBuffer().put(values);
            }
            case DataType.DOUBLE_VALUE -> {
                buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : values) {
                    buf.putDouble(v);
                }
            }
            case DataType.FLOAT16_VALUE -> {
                buf = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : values) {
                    buf.putShort(floatToHalf(v));
                }
            }
            case DataType.BFLOAT16_VALUE -> {
                buf = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : values) {
                    buf.putShort((short) (Float.floatToIntBits(v) >>> 16));
                }
            }
            default -> throw new IllegalArgumentException("cannot write floats as " + DataType.forNumber(dataType));
        }
        buf.rewind();
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(dataType)
                .setRawData(ByteString.copyFrom(buf));
        for (long d : dims) {
            b.addDims(d);
        }
        return b.build();
    }

    /** An INT64 tensor, e.g. a Reshape shape. */
    public static TensorProto fromLongs(String name, long[] dims, long[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            buf.putLong(v);
        }
        buf.rewind();
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(DataType.INT64_VALUE)
                .setRawData(ByteString.copyFrom(buf));
        for (long d : dims) {
            b.addDims(d);
        }
        return b.build();
    }

    static int byteWidth(String name, int dataType) throws LrdktException {
        return switch (dataType) {
            case DataType.FLOAT_VALUE, DataType.INT32_VALUE, DataType.UINT32_VALUE -> 4;
            case DataType.DOUBLE_VALUE, DataType.INT64_VALUE, DataType.UINT64_VALUE, DataType.COMPLEX64_VALUE -> 8;
            case DataType.FLOAT16_VALUE, DataType.BFLOAT16_VALUE, DataType.INT16_VALUE, DataType.UINT16_VALUE -> 2;
            case DataType.INT8_VALUE, DataType.UINT8_VALUE, DataType.BOOL_VALUE -> 1;
            case DataType.COMPLEX128_VALUE -> 16;
            default -> throw LrdktException.unsupported("tensor '" + name + "' has data type "
                    + DataType.forNumber(dataType) + " which has no fixed byte width");
        };
    }

    private static int arrayLength(String name, long count) throws LrdktException {
        if (count > Integer.MAX_VALUE - 8) {
            throw LrdktException.unsupported("tensor '" + name + "' has " + count
                    + " elements; at most 2^31 per tensor are supported");
        }
        return (int) count;
    }

    private static void checkLength(String name, long actual, long expected) throws LrdktException {
        if (actual != expected) {
            throw LrdktException.badInput("tensor '" + name + "' holds " + actual + " values/bytes where its shape needs "
                    + expected + " (truncated or corrupt model)");
        }
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float value = mant * 0x1p-24f; // subnormal or zero
            return sign == 0 ? value : -value;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** float to IEEE 754 binary16, rounding to nearest even. */
    static short floatToHalf(float value) {
        int bits = Float.floatToIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) {
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 : 0));
        }
        int halfExp = exp - 112;
        if (halfExp >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (halfExp <= 0) {
            if (halfExp < -10) {
                return (short) sign;
            }
            int full = mant | 0x800000;
            int shift = 14 - halfExp;
            int rounded = (full + (1 << (shift - 1)) - 1 + ((full >>> shift) & 1)) >>> shift;
            return (short) (sign | rounded);
        }
        int rounded = mant + 0xfff + ((mant >>> 13) & 1);
        if ((rounded & 0x800000) != 0) {
            rounded = 0;
            halfExp++;
            if (halfExp >= 0x1f) {
                return (short) (sign | 0x7c00);
            }
        }
        return (short) (sign | (halfExp << 10) | (rounded >>> 13));
    }

    private static int floatByteWidth(String name, int type) throws LrdktException {
        if (!isFloatingPoint(type)) {
            throw unsupportedFloatType(name, type);
        }
        return byteWidth(name, type);
    }

    /** Values held in the typed field that a floating-point type uses. */
    private static long typedCount(TensorProto t) throws LrdktException {
        return switch (t.getDataType()) {
            case DataType.FLOAT_VALUE -> t.getFloatDataCount();
            case DataType.DOUBLE_VALUE -> t.getDoubleDataCount();
            case DataType.FLOAT16_VALUE, DataType.BFLOAT16_VALUE -> t.getInt32DataCount();
            default -> throw unsupportedFloatType(t.getName(), t.getDataType());
        };
    }

    private static LrdktException unsupportedFloatType(String name, int type) {
        return LrdktException.unsupported("tensor '" + name + "' has data type " + DataType.forNumber(type)
                + "; expected FLOAT, FLOAT16, BFLOAT16 or DOUBLE");
    }

    /**
     * Checks that a stored tensor is what it claims: a known data type, sane dims, and exactly the bytes (or typed
     * values) its shape needs. Cheap: nothing is decoded.
     */
    public static void checkConsistent(TensorProto t) throws LrdktException {
        String name = t.getName();
        long count = elementCount(name, dims(t));
        int type = t.getDataType();
        DataType known = DataType.forNumber(type);
        if (known == null || known == DataType.UNDEFINED) {
            throw LrdktException.badInput("tensor '" + name + "' has unknown data type " + type);
        }
        if (type == DataType.STRING_VALUE) {
            return;
        }
        if (t.hasRawData()) {
            long needed;
            try {
                needed = Math.multiplyExact(count, byteWidth(name, type));
            } catch (ArithmeticException e) {
                throw LrdktException.badInput("tensor '" + name + "' claims more bytes than a long can count");
            }
            checkLength(name, t.getRawData().size(), needed);
            return;
        }
        long typed = t.getFloatDataCount() + t.getDoubleDataCount() + t.getInt32DataCount() + t.getInt64DataCount()
                + t.getUint64DataCount();
        if (typed != 0 || count != 0) {
            // complex types store two values per element
            long perElement = type == DataType.COMPLEX64_VALUE || type == DataType.COMPLEX128_VALUE ? 2 : 1;
            checkLength(name, typed, count * perElement);
        }
    }
}

package org.lrdkt.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto.DataType;

class TensorDataTest {

    @Test
    void halfPrecisionMatchesKnownBitPatterns() {
        // IEEE 754 binary16 reference values
        assertEquals(1.0f, TensorData.halfToFloat((short) 0x3c00));
        assertEquals(-2.0f, TensorData.halfToFloat((short) 0xc000));
        assertEquals(65504f, TensorData.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, TensorData.halfToFloat((short) 0x0001));
        assertEquals(Float.POSITIVE_INFINITY, TensorData.halfToFloat((short) 0x7c00));
        assertTrue(Float.isNaN(TensorData.halfToFloat((short) 0x7e00)));
        assertEquals((short) 0x3c00, TensorData.floatToHalf(1.0f));
        assertEquals((short) 0x3555, TensorData.floatToHalf(1f / 3));
        assertEquals((short) 0x7c00, TensorData.floatToHalf(1e6f));
        assertEquals((short) 0x0001, TensorData.floatToHalf(0x1p-24f));
    }

    @Test
    void everyHalfSurvivesARoundTrip() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = TensorData.halfToFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, TensorData.floatToHalf(f), "bits " + Integer.toHexString(bits));
            }
        }
    }

    @Test
    void readsRawAndTypedStorage() throws Exception {
        float[] values = {1.5f, -2f, 0.25f, 3f};
        for (int type : new int[] {DataType.FLOAT_VALUE, DataType.FLOAT16_VALUE, DataType.BFLOAT16_VALUE,
                DataType.DOUBLE_VALUE}) {
            TensorProto raw = TensorData.fromFloats("w", new long[] {2, 2}, values, type);
            assertArrayEquals(values, TensorData.toFloats(raw), "type " + type);
            FloatBuffer direct = ByteBuffer.allocateDirect(6 * Float.BYTES).order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            direct.position(1).limit(5);
            TensorData.toFloats(raw, direct);
            float[] decoded = new float[4];
            direct.get(decoded);
            assertArrayEquals(values, decoded, "type " + type + " into a direct buffer");
            assertThrows(IllegalArgumentException.class, () -> TensorData.toFloats(raw, FloatBuffer.allocate(5)));
        }
        TensorProto typed = TensorProto.newBuilder().setName("w").setDataType(DataType.FLOAT_VALUE).addDims(4)
                .addFloatData(1.5f).addFloatData(-2f).addFloatData(0.25f).addFloatData(3f).build();
        assertArrayEquals(values, TensorData.toFloats(typed));
        TensorProto shape = TensorData.fromLongs("s", new long[] {2}, new long[] {1, -1});
        assertArrayEquals(new long[] {1, -1}, TensorData.toLongs(shape));
    }

    @Test
    void refusesDataThatDoesNotMatchItsShape() {
        TensorProto full = TensorData.fromFloats("w", new long[] {4}, new float[4], DataType.FLOAT_VALUE);
        TensorProto claimsMore = full.toBuilder().setDims(0, 400).build();
        LrdktException e = assertThrows(LrdktException.class, () -> TensorData.toFloats(claimsMore));
        assertTrue(e.getMessage().contains("truncated or corrupt"), e.getMessage());
        TensorProto overflow = full.toBuilder().setDims(0, Long.MAX_VALUE).addDims(4).build();
        assertThrows(LrdktException.class, () -> TensorData.toFloats(overflow));
        TensorProto negative = full.toBuilder().setDims(0, -4).build();
        assertThrows(LrdktException.class, () -> TensorData.toFloats(negative));
        TensorProto ints = full.toBuilder().setDataType(DataType.INT8_VALUE).clearRawData().build();
        assertEquals(LrdktException.Kind.UNSUPPORTED,
                assertThrows(LrdktException.class, () -> TensorData.toFloats(ints)).kind());
    }
}

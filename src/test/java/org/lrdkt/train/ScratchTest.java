package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The training step's scratch memory: reserved rather than resident, and arrays handed between nested cycles. */
class ScratchTest {

    @Test
    @SuppressWarnings("try") // the workspace scope is the point
    void reservingCostsOnlyTheMemoryThatArraysTouch() {
        long before = Pointer.physicalBytes();
        try (Scratch scratch = new Scratch("test"); MemoryWorkspace ignored = scratch.cycle()) {
            INDArray a = Nd4j.create(DataType.FLOAT, 1 << 18).assign(1); // 1 MiB
            long grown = Pointer.physicalBytes() - before;
            assertTrue(Nd4j.getMemoryManager().getCurrentWorkspace().getCurrentSize() >= 1L << 30,
                    "the reservation is at least 1 GiB of address space");
            // a zeroed (or learned and re-allocated) block would be resident in full
            assertTrue(grown < 256L << 20, "resident memory grew by " + (grown >> 20) + " MiB for a 1 MiB array");
            assertEquals(1 << 18, a.sumNumber().longValue());
        }
    }

    @Test
    @SuppressWarnings("try") // the workspace scopes are the point
    void adoptedArraysOutliveTheNestedCycleThatComputedThem() {
        try (Scratch outer = new Scratch("outer"); Scratch inner = new Scratch("inner");
             MemoryWorkspace ignored = outer.cycle()) {
            INDArray weight = Nd4j.createFromArray(5f, 6f); // outside every workspace: handed over as it is
            Map<String, INDArray> kept;
            try (MemoryWorkspace phase = inner.cycle()) {
                INDArray computed = Nd4j.createFromArray(1f, 2f, 3f).mul(2);
                INDArray view = Nd4j.createFromArray(7f, 8f, 9f, 10f).reshape(2, 2).getColumn(1);
                kept = outer.adopt(Map.of("computed", computed, "view", view, "weight", weight));
                assertFalse(kept.get("computed") == computed, "an array of the inner cycle is copied");
            }
            try (MemoryWorkspace phase = inner.cycle()) {
                // the next cycle reuses the inner memory from its start: anything still pointing there is overwritten
                Nd4j.create(DataType.FLOAT, 64).assign(-1);
            }
            assertArrayEquals(new float[] {2f, 4f, 6f}, kept.get("computed").toFloatVector());
            assertArrayEquals(new float[] {8f, 10f}, kept.get("view").toFloatVector());
            assertTrue(kept.get("weight") == weight);
        }
    }
}

package org.lrdkt.train;

import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.memory.AllocationsTracker;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.MemoryWorkspaceManager;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationKind;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.MemoryKind;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.cpu.nativecpu.workspace.CpuWorkspace;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Native memory reused from one training step (or evaluation batch) to the next: an ND4J workspace, a bump
 * allocator whose arrays all go at once when a cycle closes. Without it each op's output is a fresh native
 * allocation that page-faults in and is freed only when the JVM happens to collect its Java wrapper.
 *
 * <p>The workspace's block is <em>reserved</em>, not filled: allocated once and never zeroed, so the kernel backs
 * its pages only as arrays first land on them, and resident memory is the high-water mark of the cycles. ND4J's own
 * workspaces learn their size instead: the first cycle's arrays are allocated one by one and freed when it ends,
 * then a block of that size is allocated and zeroed; glibc keeps the freed arrays' memory (gigabytes at ImageNet
 * sizes) for later allocations that never come, so the process held both. A cycle that outgrows the reservation
 * spills its excess into ordinary allocations, freed when the cycle ends.
 *
 * <p>Nothing allocated inside a cycle may be used after the cycle closes, unless {@link #adopt}ed into an
 * enclosing one; the workspace belongs to the thread that first opened it.
 */
final class Scratch implements AutoCloseable {

    /**
     * Address space reserved per scratch: half the machine's memory (a training run has two scratches), at least
     * 1 GiB. Only touched pages cost memory.
     */
    private static final long RESERVE_BYTES = Math.max(Pointer.totalPhysicalBytes() / 2, 1L << 30);
    /** Where a system that refuses to over-commit address space stops halving the reservation. */
    private static final long MIN_RESERVE_BYTES = 64L << 20;

    private static final WorkspaceConfiguration CONFIG = WorkspaceConfiguration.builder()
            .initialSize(0) // the block is reserved by ReservedWorkspace, not by ND4J
            .policyAllocation(AllocationPolicy.STRICT)
            .policyLearning(LearningPolicy.NONE)
            .policyReset(ResetPolicy.BLOCK_LEFT)
            .policySpill(SpillPolicy.EXTERNAL)
            .build();

    private final String id;
    private ReservedWorkspace workspace;

    Scratch(String id) {
        this.id = id + "@" + System.identityHashCode(this);
    }

    /** Opens one cycle: arrays created until it closes live in the scratch memory. */
    MemoryWorkspace cycle() {
        if (workspace == null) {
            workspace = ReservedWorkspace.reserve(id);
            Nd4j.getWorkspaceManager().setWorkspaceForCurrentThread(workspace, id);
        }
        return workspace.notifyScopeEntered();
    }

    /** Bytes allocated in the open cycle so far. */
    long used() {
        return workspace == null ? 0 : workspace.getThisCycleAllocations();
    }

    /**
     * Copies of {@code arrays} in this scratch's open cycle, for use after a nested cycle of another scratch (where
     * they were computed) closes; arrays outside every workspace (weights, constants) are returned as they are.
     */
    Map<String, INDArray> adopt(Map<String, INDArray> arrays) {
        Map<String, INDArray> out = new HashMap<>();
        arrays.forEach((name, a) -> out.put(name, a.leverageTo(id)));
        return out;
    }

    /** Frees the scratch memory. */
    @Override
    public void close() {
        if (workspace != null) {
            MemoryWorkspaceManager manager = Nd4j.getWorkspaceManager();
            if (manager.checkIfWorkspaceExists(id)) {
                manager.destroyWorkspace(workspace);
            }
            workspace = null;
        }
    }

    /** ND4J's CPU workspace over a block allocated without zeroing. */
    private static final class ReservedWorkspace extends CpuWorkspace {

        private ReservedWorkspace(String id) {
            super(CONFIG, id); // initial size 0: the superclass allocates nothing
        }

        static ReservedWorkspace reserve(String id) {
            ReservedWorkspace w = new ReservedWorkspace(id);
            for (long bytes = RESERVE_BYTES; ; bytes /= 2) {
                try {
                    w.workspace.setHostPointer(new PagedPointer(
                            w.memoryManager.allocate(bytes + SAFETY_OFFSET, MemoryKind.HOST, false)));
                    w.currentSize.set(bytes);
                    w.isInit.set(true);
                    // ND4J's allocation statistics; destroyWorkspace reports the release
                    AllocationsTracker.getInstance().markAllocated(AllocationKind.WORKSPACE, 0, bytes);
                    return w;
                } catch (OutOfMemoryError refused) {
                    if (bytes / 2 < MIN_RESERVE_BYTES) {
                        throw refused;
                    }
                }
            }
        }
    }
}

package org.lrdkt.train;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.MemoryWorkspaceManager;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Native memory reused from one training step (or evaluation batch) to the next: an ND4J workspace that learns
 * its size in the first cycle and then hands every later cycle the same, already-mapped memory. Without it each
 * op's output is a fresh native allocation that page-faults in and is freed only when the JVM happens to collect
 * its Java wrapper. Nothing allocated inside a cycle may be used after the cycle closes; the workspace belongs to
 * the thread that opened it.
 */
final class Scratch implements AutoCloseable {

    private static final WorkspaceConfiguration CONFIG = WorkspaceConfiguration.builder()
            .initialSize(0)
            .overallocationLimit(0.1)
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policyReset(ResetPolicy.BLOCK_LEFT)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    private final String id;

    Scratch(String id) {
        this.id = id + "@" + System.identityHashCode(this);
    }

    /** Opens one cycle: arrays created until it closes live in the scratch memory. */
    MemoryWorkspace cycle() {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, id);
    }

    /** Frees the scratch memory. */
    @Override
    public void close() {
        MemoryWorkspaceManager manager = Nd4j.getWorkspaceManager();
        if (manager.checkIfWorkspaceExists(id)) {
            manager.destroyWorkspace(manager.getWorkspaceForCurrentThread(id));
        }
    }
}

package org.lrdkt.validate;

import java.util.ArrayList;
import java.util.List;

/**
 * The order of timed runs when several models are compared: rounds of blocks A×k, B×k, C×k, ... so that slow drift
 * of the machine (clock, other load) hits every model alike, while each block keeps one model's weights warm in
 * cache. Alternating single calls instead lets a large model evict a small one's weights and understates the small
 * one's speed. Odd rounds run the models in reverse order (A B, B A, A B, ...) so that no model always goes first
 * after another's block: any cost of following a different model falls on each alike.
 */
public final class BlockSchedule {

    /** {@code count} consecutive runs of model {@code model} in round {@code round}. */
    public record Block(int round, int model, int count) {
    }

    private BlockSchedule() {
    }

    /** Blocks giving each of {@code models} exactly {@code runs} timed runs, at most {@code block} in a row. */
    public static List<Block> plan(int models, int runs, int block) {
        if (models < 1 || runs < 1 || block < 1) {
            throw new IllegalArgumentException("models, runs and block must be positive");
        }
        List<Block> blocks = new ArrayList<>();
        int round = 0;
        for (int done = 0; done < runs; done += block, round++) {
            int count = Math.min(block, runs - done);
            for (int i = 0; i < models; i++) {
                blocks.add(new Block(round, round % 2 == 0 ? i : models - 1 - i, count));
            }
        }
        return blocks;
    }

    /** Number of rounds in a plan of {@code runs} runs in blocks of {@code block}. */
    public static int rounds(int runs, int block) {
        return (runs + block - 1) / block;
    }
}

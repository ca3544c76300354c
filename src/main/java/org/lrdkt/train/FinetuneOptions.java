package org.lrdkt.train;

import java.nio.file.Path;
import java.util.List;
import org.lrdkt.Json;

/**
 * Settings of one fine-tuning run, in groups. The paper (LRDKT, TPAMI 2019) gives T 5, SGD momentum 0.9, weight
 * decay 5e-4 and batch 32, which are kept. Its lr 1e-3 is for hundreds of thousands of ImageNet iterations; a run of
 * minutes needs 0.01 with a cosine decay. Its λ_soft 0.003 and λ_hint 0.0005 belong to Caffe's unnormalised terms;
 * here the soft term carries Hinton's T² and hints are relative errors ({@link KtLoss}), so the defaults are λ_soft
 * 0.4 and λ_hint 1 (LeNet-5 at 25% MACs, BENCHMARKS.md). Images are moved by up to 2 px, as the LeNet teacher was
 * trained, and also turned by up to 10° and scaled by up to ±10%: the teacher labels every new view, and with that
 * richer augmentation a longer run (40 epochs) keeps improving where 20 epochs of shifts alone plateau
 * (BENCHMARKS.md).
 *
 * @param schedule     epochs, batches and the optimizer's steps
 * @param augmentation random views of the training images
 * @param transfer     the knowledge-transfer loss
 * @param sampling     which samples train and which are held out
 * @param checkpoint   file written atomically after every epoch (null = none)
 * @param resume       continue from {@code checkpoint}
 */
public record FinetuneOptions(Schedule schedule, Augmentation augmentation, Transfer transfer, Sampling sampling,
                              Path checkpoint, boolean resume) {

    /**
     * @param cosine       decay the learning rate to 0 along a half cosine over the run (else constant)
     * @param warmupEpochs ramp the learning rate up linearly over this many epochs first: the factor pairs of a
     *                     decomposed layer start unbalanced, and full-rate momentum steps from there can diverge
     * @param clipNorm     scale each step's loss gradient down to this L2 norm when it is longer (0 = off): keeps
     *                     higher learning rates from diverging on the large soft-target gradients of early steps
     */
    public record Schedule(int epochs, int batch, double learningRate, double momentum, double weightDecay,
                           Optimizer.Kind optimizer, boolean cosine, double warmupEpochs, double clipNorm) {

        public static Schedule defaults() {
            return new Schedule(40, 32, 0.01, 0.9, 5e-4, Optimizer.Kind.SGD, true, 1, 0);
        }

        public Schedule withEpochs(int n) {
            return new Schedule(n, batch, learningRate, momentum, weightDecay, optimizer, cosine, warmupEpochs,
                    clipNorm);
        }

        /**
         * The learning rate after {@code epochsDone} epochs (fractional): a half-cosine decay over the run (or
         * constant), scaled by the linear warm-up while it lasts. The first step already gets 1/(warm-up steps) of
         * the rate.
         */
        double learningRateAt(double epochsDone, int stepsPerEpoch) {
            double rate = cosine ? learningRate * 0.5 * (1 + Math.cos(Math.PI * epochsDone / epochs)) : learningRate;
            double warmupSteps = warmupEpochs * stepsPerEpoch;
            return warmupSteps > 0 ? rate * Math.min(1, (epochsDone * stepsPerEpoch + 1) / warmupSteps) : rate;
        }
    }

    /**
     * @param shift      move each training image by up to this many pixels (0 = off; non-image inputs are never
     *                   moved)
     * @param rotate     turn each training image by up to this many degrees (0 = off)
     * @param zoom       scale each training image by a factor in [1 − zoom, 1 + zoom] (0 = off)
     * @param cropScale  train on random-resized crops covering [cropScale, 1] of each image's area, drawn from the
     *                   decoded photo before resizing (0 = off; needs images decoded from files)
     * @param flip       mirror each training image left to right with probability ½
     */
    public record Augmentation(int shift, double rotate, double zoom, double cropScale, boolean flip) {

        public static final Augmentation NONE = new Augmentation(0, 0, 0, 0, false);

        /** Shift, rotation and zoom alone (digits), without crops or flips. */
        public Augmentation(int shift, double rotate, double zoom) {
            this(shift, rotate, zoom, 0, false);
        }

        public static Augmentation defaults() {
            return new Augmentation(2, 10, 0.1);
        }

        /** Photos as torchvision trains on ImageNet: random-resized crops of 8–100% of the area, and flips. */
        public static Augmentation imagenet() {
            return new Augmentation(0, 0, 0, 0.08, true);
        }
    }

    /**
     * @param temperature  soft-target temperature T
     * @param softWeight   weight of the soft-target cross-entropy (also scaled by T²)
     * @param hintWeight   weight of each hint's relative squared error
     * @param hints        hint tensors; null = the student's {@code lrdkt.hints} metadata, empty = none
     * @param ignoreLabels train on teacher outputs only (pure transfer) even when labels exist
     * @param outputLoss   the transfer loss on each model output ({@link KtLoss.OutputLoss}); each term's weight is
     *                     softWeight
     */
    public record Transfer(double temperature, double softWeight, double hintWeight, List<String> hints,
                           boolean ignoreLabels, OutputLosses outputLoss) {

        /** With each output's loss chosen by the output ({@link OutputLosses#AUTO}). */
        public Transfer(double temperature, double softWeight, double hintWeight, List<String> hints,
                        boolean ignoreLabels) {
            this(temperature, softWeight, hintWeight, hints, ignoreLabels, OutputLosses.AUTO);
        }

        public static Transfer defaults() {
            return new Transfer(5, 0.4, 1, null, false, OutputLosses.AUTO);
        }
    }

    /**
     * @param seed        seed of shuffling, the held-out split and the augmentation
     * @param limit       use at most this many samples (0 = all)
     * @param valFraction share of the samples held out to pick the best epoch
     */
    public record Sampling(long seed, int limit, double valFraction) {

        public static Sampling defaults() {
            return new Sampling(1, 0, 0.1);
        }
    }

    /** The defaults, without a checkpoint. */
    public static FinetuneOptions defaults() {
        return new FinetuneOptions(Schedule.defaults(), Augmentation.defaults(), Transfer.defaults(),
                Sampling.defaults(), null, false);
    }

    public FinetuneOptions withSchedule(Schedule s) {
        return new FinetuneOptions(s, augmentation, transfer, sampling, checkpoint, resume);
    }

    public FinetuneOptions withAugmentation(Augmentation a) {
        return new FinetuneOptions(schedule, a, transfer, sampling, checkpoint, resume);
    }

    public FinetuneOptions withTransfer(Transfer t) {
        return new FinetuneOptions(schedule, augmentation, t, sampling, checkpoint, resume);
    }

    public FinetuneOptions withSampling(Sampling s) {
        return new FinetuneOptions(schedule, augmentation, transfer, s, checkpoint, resume);
    }

    public FinetuneOptions withCheckpoint(Path file, boolean resumeFromIt) {
        return new FinetuneOptions(schedule, augmentation, transfer, sampling, file, resumeFromIt);
    }

    /**
     * What must be equal for a checkpoint to be resumed with these options: every setting but where the checkpoint
     * lies and whether this run resumes it (the run that wrote it did not).
     */
    String fingerprint() {
        return Json.writeLine(withCheckpoint(null, false));
    }
}

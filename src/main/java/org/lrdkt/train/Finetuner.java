package org.lrdkt.train;

import com.fasterxml.jackson.core.type.TypeReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Knowledge-transfer fine-tuning (LRDKT): trains the student's weights in an ND4J mirror against the frozen
 * teacher, keeps the epoch that scores best on a held-out split, and returns a copy of the student ONNX model
 * with those weights. Everything that can be wrong with the inputs is checked before the first step.
 */
public final class Finetuner {

    /** Progress callbacks (the CLI draws a progress bar); every method is optional. */
    public interface Progress {
        default void epochStart(int epoch, int epochs, int samples) {
        }

        default void step(int samplesDone, KtLoss.Terms terms, double imagesPerSecond) {
        }

        default void epochEnd(FinetuneResult.Epoch epoch, boolean best) {
        }
    }

    private static final int EVAL_BATCH = 256;
    /**
     * Input elements per evaluation batch at most (but never fewer samples than a training batch): 256 digits
     * are cheap, but the evaluation workspace holds every array of a batch, and 256 photos at 224×224 would need
     * tens of gigabytes of it.
     */
    private static final long EVAL_BATCH_ELEMENTS = 1L << 20;

    private final Mirror teacher;
    private final Mirror student;
    private final OnnxModel studentModel;
    private final TrainData data;
    private final FinetuneOptions options;
    private final FinetuneOptions.Schedule schedule;
    private final FinetuneOptions.Transfer transfer;
    private final FinetuneOptions.Sampling sampling;
    private final String input;
    private final String logits;
    private final long[] inputShape;
    private final RandomAffine augmentation;
    private final List<String> hints;
    private final boolean useLabels;
    /** The transfer loss on the output, resolved ({@code --output-loss auto} decided by the output). */
    private final KtLoss.OutputLoss outputLoss;
    /** The output is produced by a Sigmoid node: probabilities, not logits. */
    private final boolean probabilities;
    /** Scratch memory of the training steps and of the evaluation batches, freed when {@link #run} ends. */
    private final Scratch stepMemory = new Scratch("lrdkt-step");
    private final Scratch evalMemory = new Scratch("lrdkt-eval");

    private Finetuner(OnnxModel teacherModel, OnnxModel studentModel, TrainData data, FinetuneOptions options)
            throws LrdktException {
        this.options = options;
        this.schedule = options.schedule();
        this.transfer = options.transfer();
        this.sampling = options.sampling();
        this.data = data;
        this.studentModel = studentModel;
        checkOptions(options);
        if (data.size() == 0) {
            throw LrdktException.badInput("the data set " + data.source() + " is empty");
        }
        if (data.size() < 2 && sampling.valFraction() > 0) {
            throw LrdktException.badInput("the data set has 1 sample; need at least 2 to hold some out");
        }
        teacher = Mirror.of(teacherModel, DataType.FLOAT, false);
        student = Mirror.of(studentModel, DataType.FLOAT, true);
        if (teacher.inputNames().size() != 1 || !teacher.inputNames().equals(student.inputNames())) {
            throw notDecomposition("inputs " + teacher.inputNames() + " vs " + student.inputNames()
                    + " (fine-tuning needs one input of the same name)");
        }
        if (!teacher.outputNames().get(0).equals(student.outputNames().get(0))) {
            throw notDecomposition("first output '" + teacher.outputNames().get(0) + "' vs '"
                    + student.outputNames().get(0) + "'");
        }
        input = teacher.inputNames().get(0);
        logits = teacher.outputNames().get(0);
        long[] t = declaredShape(Graph.of(teacherModel), input);
        long[] s = declaredShape(Graph.of(studentModel), input);
        if (t != null && s != null && !compatible(t, s)) {
            throw notDecomposition("input '" + input + "' has shape " + Arrays.toString(t) + " in the teacher and "
                    + Arrays.toString(s) + " in the student");
        }
        inputShape = sampleShape(t != null ? t : s, data);
        FinetuneOptions.Augmentation views = options.augmentation();
        augmentation = RandomAffine.forSamples(inputShape, views.shift(), views.rotate(), views.zoom());
        hints = resolveHints(studentModel, transfer.hints());
        if (student.parameters().isEmpty()) {
            throw LrdktException.badInput("the student has no trainable weights (no constant Conv/Gemm/MatMul weights)");
        }
        long[] outputShape = dryRun();
        NodeProto producer = Graph.of(teacherModel).producer(logits);
        String producerOp = producer == null ? null : producer.getOpType();
        KtLoss.OutputLoss requested = transfer.outputLoss() == null ? KtLoss.OutputLoss.AUTO : transfer.outputLoss();
        outputLoss = KtLoss.resolve(requested, outputShape, producerOp);
        probabilities = outputLoss == KtLoss.OutputLoss.SIGMOID && "Sigmoid".equals(producerOp);
        if (outputLoss == KtLoss.OutputLoss.SOFTMAX && outputShape.length != 2 && outputShape.length != 3
                && outputShape.length != 4) {
            throw LrdktException.usage("--output-loss softmax needs an output of rank 2, 3 or 4; '" + logits
                    + "' has shape " + Arrays.toString(outputShape));
        }
        // hard labels only fit rank-2 classifier logits; elsewhere the transfer is label-free
        boolean labelsFit = outputLoss == KtLoss.OutputLoss.SOFTMAX && outputShape.length == 2;
        useLabels = data.labelled() && !transfer.ignoreLabels() && labelsFit;
        if (!useLabels && transfer.softWeight() == 0 && (transfer.hintWeight() == 0 || hints.isEmpty())) {
            throw LrdktException.usage("nothing to learn from: no labels"
                    + (data.labelled() ? (labelsFit ? " (ignored)" : " (they do not fit output '" + logits
                    + "' of shape " + Arrays.toString(outputShape) + ")") : "")
                    + ", soft weight 0 and no hint term");
        }
        if (useLabels) {
            checkLabels(outputShape[1]);
        }
    }

    private static LrdktException notDecomposition(String detail) {
        return LrdktException.badInput("the student is not a decomposition of the teacher: " + detail);
    }

    private static void checkOptions(FinetuneOptions o) throws LrdktException {
        FinetuneOptions.Schedule s = o.schedule();
        FinetuneOptions.Transfer t = o.transfer();
        FinetuneOptions.Sampling d = o.sampling();
        if (s.epochs() < 1 || s.batch() < 1 || !(s.learningRate() > 0) || !(t.temperature() > 0)
                || t.softWeight() < 0 || t.hintWeight() < 0 || s.weightDecay() < 0 || s.momentum() < 0
                || !(d.valFraction() >= 0 && d.valFraction() < 1) || d.limit() < 0) {
            throw LrdktException.usage("fine-tuning options out of range: " + o);
        }
        if (o.resume() && o.checkpoint() == null) {
            throw LrdktException.usage("--resume needs a checkpoint file");
        }
    }

    /** The input's declared shape (dynamic dims as −1), or null when it declares none. */
    private static long[] declaredShape(Graph graph, String name) {
        for (ValueInfoProto v : graph.realInputs()) {
            if (v.getName().equals(name) && v.getType().getTensorType().hasShape()) {
                return Shapes.declaredDims(v);
            }
        }
        return null;
    }

    private static boolean compatible(long[] a, long[] b) {
        if (a.length != b.length) {
            return false;
        }
        for (int i = 1; i < a.length; i++) {
            if (a[i] > 0 && b[i] > 0 && a[i] != b[i]) {
                return false;
            }
        }
        return true;
    }

    /** Per-sample input shape: the model's declared one when static, else the data's own. */
    private static long[] sampleShape(long[] declared, TrainData data) throws LrdktException {
        if (declared == null || Arrays.stream(declared, 1, declared.length).anyMatch(d -> d <= 0)) {
            return data.sampleShape();
        }
        long[] shape = Arrays.copyOfRange(declared, 1, declared.length);
        if (Arrays.stream(shape).reduce(1, (x, y) -> x * y) != data.sampleSize()) {
            throw LrdktException.badInput("samples of " + data.source() + " have shape "
                    + Arrays.toString(data.sampleShape()) + " but the model's input takes " + Arrays.toString(shape));
        }
        return shape;
    }

    private List<String> resolveHints(OnnxModel studentModel, List<String> requested) throws LrdktException {
        List<String> names = requested;
        if (names == null) {
            String meta = studentModel.metadata(OnnxModel.HINTS_METADATA_KEY);
            try {
                names = meta == null ? List.of() : Json.MAPPER.readValue(meta, new TypeReference<List<String>>() { });
            } catch (java.io.IOException e) {
                throw LrdktException.badInput("student metadata " + OnnxModel.HINTS_METADATA_KEY + " is not a JSON list of tensor names: "
                        + meta);
            }
        }
        for (String h : names) {
            if (!teacher.computes(h) || !student.computes(h)) {
                throw LrdktException.usage("hint tensor '" + h + "' is not computed by both models ("
                        + (teacher.computes(h) ? "student" : "teacher") + " lacks it)");
            }
        }
        return List.copyOf(names);
    }

    /** A label beyond the logits would silently train towards nothing (an all-zero one-hot row). */
    private void checkLabels(long classes) throws LrdktException {
        int[] labels = data.labels(java.util.stream.IntStream.range(0, data.size()).toArray());
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw LrdktException.badInput("label " + labels[i] + " of sample " + i + " is outside the model's "
                        + classes + " classes (0.." + (classes - 1) + ")");
            }
        }
    }

    /**
     * One forward pass of both models on two samples: shapes of logits and hints must agree. Returns the teacher
     * output's shape.
     */
    private long[] dryRun() throws LrdktException {
        int[] two = data.size() > 1 ? new int[] {0, 1} : new int[] {0};
        INDArray x = data.batch(two, inputShape, DataType.FLOAT);
        Map<String, INDArray> t = teacher.forward(Map.of(input, x));
        Map<String, INDArray> s = student.forward(Map.of(input, x));
        List<String> compared = new ArrayList<>(hints);
        compared.add(0, logits);
        for (String name : compared) {
            if (!Arrays.equals(t.get(name).shape(), s.get(name).shape())) {
                throw notDecomposition("tensor '" + name + "' has shape " + Arrays.toString(t.get(name).shape())
                        + " in the teacher and " + Arrays.toString(s.get(name).shape()) + " in the student");
            }
        }
        return t.get(logits).shape();
    }

    /**
     * Fine-tunes {@code student} against {@code teacher} on {@code data}; returns a copy of the student with the
     * best epoch's weights. Neither model object is changed.
     */
    public static FinetuneResult finetune(OnnxModel teacher, OnnxModel student, TrainData data,
                                          FinetuneOptions options, Progress progress) throws LrdktException {
        return new Finetuner(teacher, student, data, options).run(progress);
    }

    /** Checks the inputs and builds both mirrors without training (tests inspect the teacher through this). */
    static Finetuner prepare(OnnxModel teacher, OnnxModel student, TrainData data, FinetuneOptions options)
            throws LrdktException {
        return new Finetuner(teacher, student, data, options);
    }

    Mirror teacherMirror() {
        return teacher;
    }

    FinetuneResult run(Progress progress) throws LrdktException {
        try (stepMemory; evalMemory) {
            return train(progress);
        }
    }

    private FinetuneResult train(Progress progress) throws LrdktException {
        long started = System.nanoTime();
        int[] order = shuffled(data.size(), new Random(sampling.seed()));
        int used = sampling.limit() > 0 ? Math.min(sampling.limit(), order.length) : order.length;
        int held = sampling.valFraction() > 0 ? Math.max(1, (int) Math.round(used * sampling.valFraction())) : 0;
        if (used - held < 1) {
            throw LrdktException.badInput("no samples left for training after holding out " + held);
        }
        int[] heldOut = Arrays.copyOfRange(order, 0, held);
        int[] train = Arrays.copyOfRange(order, held, used);
        // without a held-out split, score on the training samples
        int[] scored = held > 0 ? heldOut : train;
        KtLoss loss = new KtLoss(transfer.softWeight(), transfer.temperature(), transfer.hintWeight(), outputLoss,
                probabilities);
        Optimizer optimizer = new Optimizer(schedule.optimizer(), schedule.learningRate(), schedule.momentum(),
                schedule.weightDecay(), schedule.clipNorm(), student);
        Map<String, INDArray> best = copy(student.parameters());
        List<FinetuneResult.Epoch> history = new ArrayList<>();
        double teacherScore = scoreAndLoss(teacher, scored, null).score();
        ScoreAndLoss initial = scoreAndLoss(student, scored, loss);
        double bestScore = initial.score();
        double bestLoss = initial.loss();
        int bestEpoch = 0;
        int firstEpoch = 1;
        if (options.resume()) {
            Checkpoint.State state = Checkpoint.load(options.checkpoint(), options.fingerprint(), student.parameters(),
                    best, optimizer);
            history.addAll(state.history());
            bestScore = state.bestScore();
            bestLoss = state.bestLoss();
            bestEpoch = state.bestEpoch();
            firstEpoch = state.epochsDone() + 1;
        }
        for (int epoch = firstEpoch; epoch <= schedule.epochs(); epoch++) {
            FinetuneResult.Epoch stats = trainEpoch(epoch, train, loss, optimizer, progress, scored);
            history.add(stats);
            // the held-out loss, not the accuracy: on a few hundred samples accuracy moves in steps of one sample
            // and peaks by chance, early; ties go to the later epoch, trained longer at a lower learning rate
            boolean improved = stats.heldOutLoss() <= bestLoss;
            if (improved) {
                bestScore = stats.score();
                bestLoss = stats.heldOutLoss();
                bestEpoch = epoch;
                best = copy(student.parameters());
            }
            if (options.checkpoint() != null) {
                Checkpoint.save(options.checkpoint(), student.writeBack(studentModel), options.fingerprint(),
                        new Checkpoint.State(epoch, bestEpoch, bestScore, bestLoss, history), best, optimizer);
            }
            progress.epochEnd(stats, improved);
        }
        for (Map.Entry<String, INDArray> e : best.entrySet()) {
            student.parameters().get(e.getKey()).value().assign(e.getValue());
        }
        String metric = useLabels ? "accuracy" : "agreement";
        double seconds = (System.nanoTime() - started) / 1e9;
        return new FinetuneResult(student.writeBack(studentModel), metric, initial.score(), initial.loss(),
                teacherScore, bestEpoch, bestScore, hints, history, train.length, held, seconds);
    }

    private FinetuneResult.Epoch trainEpoch(int epoch, int[] train, KtLoss loss, Optimizer optimizer,
                                            Progress progress, int[] scored) throws LrdktException {
        int[] order = train.clone();
        shuffle(order, new Random(sampling.seed() * 1_000_003L + epoch));
        // its own stream per epoch, so a run resumed at an epoch boundary draws the same augmentations
        Random views = new Random(sampling.seed() * 1_000_033L + epoch);
        progress.epochStart(epoch, schedule.epochs(), order.length);
        long start = System.nanoTime();
        double hard = 0;
        double soft = 0;
        double hint = 0;
        int done = 0;
        NativeMemoryGuard memory = new NativeMemoryGuard();
        int stepsPerEpoch = (order.length + schedule.batch() - 1) / schedule.batch();
        for (int from = 0; from < order.length; from += schedule.batch()) {
            int[] idx = Arrays.copyOfRange(order, from, Math.min(order.length, from + schedule.batch()));
            double rate = schedule.learningRateAt(epoch - 1 + (double) from / order.length, stepsPerEpoch);
            optimizer.learningRate(rate);
            KtLoss.Terms terms = step(idx, loss, optimizer, views);
            if (!Double.isFinite(terms.total())) {
                throw LrdktException.badInput(String.format(Locale.ROOT, "training diverged in epoch %d "
                        + "(the loss became %s at learning rate %.3g); try a lower --lr or a longer --warmup-epochs",
                        epoch, terms.total(), rate));
            }
            memory.check();
            hard += terms.hard() * idx.length;
            soft += terms.soft() * idx.length;
            hint += terms.hint() * idx.length;
            done += idx.length;
            progress.step(done, terms, done / ((System.nanoTime() - start) / 1e9));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        ScoreAndLoss after = scoreAndLoss(student, scored, loss);
        return new FinetuneResult.Epoch(epoch, hard / done, soft / done, hint / done, after.score(), after.loss(),
                seconds, done / seconds);
    }

    @SuppressWarnings("try") // the workspace scope is the point; its handle is never read
    private KtLoss.Terms step(int[] idx, KtLoss loss, Optimizer optimizer, Random views) throws LrdktException {
        try (MemoryWorkspace ignored = stepMemory.cycle()) {
            return stepInScratch(idx, loss, optimizer, views);
        }
    }

    private KtLoss.Terms stepInScratch(int[] idx, KtLoss loss, Optimizer optimizer, Random views)
            throws LrdktException {
        INDArray x = data.batch(idx, inputShape, DataType.FLOAT, augmentation, views);
        Map<String, INDArray> t = needsTeacher() ? teacher.forward(Map.of(input, x)) : Map.of();
        Map<String, INDArray> s = student.forward(Map.of(input, x));
        KtLoss.Evaluation e = evaluate(loss, idx, s, t);
        optimizer.step(student.backward(s, e.gradients()));
        return e.terms();
    }

    private boolean needsTeacher() {
        return transfer.softWeight() > 0 || (transfer.hintWeight() > 0 && !hints.isEmpty()) || !useLabels;
    }

    /** The loss of student outputs {@code s} against teacher outputs {@code t} on samples {@code idx}. */
    private KtLoss.Evaluation evaluate(KtLoss loss, int[] idx, Map<String, INDArray> s, Map<String, INDArray> t) {
        Map<String, INDArray[]> pairs = new HashMap<>();
        if (transfer.hintWeight() > 0) {
            for (String h : hints) {
                pairs.put(h, new INDArray[] {s.get(h), t.get(h)});
            }
        }
        return loss.evaluate(logits, s.get(logits), t.get(logits), useLabels ? data.labels(idx) : null, pairs);
    }

    /** A model's score on some samples, and the student's mean loss on them (NaN when not asked for). */
    private record ScoreAndLoss(double score, double loss) {
    }

    /**
     * Accuracy against labels (or top-1 agreement with the teacher for unlabelled data) of {@code model} on
     * unaugmented {@code samples}, and, when {@code loss} is given, the student's knowledge-transfer loss on them.
     */
    @SuppressWarnings("try") // the workspace scope is the point; its handle is never read
    private ScoreAndLoss scoreAndLoss(Mirror model, int[] samples, KtLoss loss) throws LrdktException {
        long correct = 0;
        double agreed = 0;
        double lossSum = 0;
        KtLoss scoring = new KtLoss(transfer.softWeight(), transfer.temperature(), transfer.hintWeight(), outputLoss,
                probabilities);
        int batch = (int) Math.max(schedule.batch(),
                Math.min(EVAL_BATCH, EVAL_BATCH_ELEMENTS / Math.max(1, data.sampleSize())));
        for (int from = 0; from < samples.length; from += batch) {
            int[] idx = Arrays.copyOfRange(samples, from, Math.min(samples.length, from + batch));
            try (MemoryWorkspace ignored = evalMemory.cycle()) {
                INDArray x = data.batch(idx, inputShape, DataType.FLOAT);
                Map<String, INDArray> out = model.forward(Map.of(input, x));
                Map<String, INDArray> t = (loss != null && needsTeacher()) || !useLabels
                        ? teacher.forward(Map.of(input, x)) : Map.of();
                if (useLabels || (outputLoss == KtLoss.OutputLoss.SOFTMAX && out.get(logits).rank() == 2)) {
                    int[] predicted = out.get(logits).argMax(1).toIntVector();
                    int[] reference = useLabels ? data.labels(idx) : t.get(logits).argMax(1).toIntVector();
                    for (int i = 0; i < idx.length; i++) {
                        correct += predicted[i] == reference[i] ? 1 : 0;
                    }
                } else {
                    // per-position agreement, mask agreement or cosine (KtLoss.agreementSum)
                    agreed += scoring.agreementSum(out.get(logits), t.get(logits));
                }
                if (loss != null) {
                    lossSum += evaluate(loss, idx, out, t).terms().total() * idx.length;
                }
            }
        }
        return new ScoreAndLoss((correct + agreed) / samples.length, loss == null ? Double.NaN : lossSum / samples.length);
    }

    private static Map<String, INDArray> copy(Map<String, Mirror.Parameter> parameters) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        parameters.forEach((k, v) -> out.put(k, v.value().dup()));
        return out;
    }

    private static int[] shuffled(int n, Random random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        shuffle(order, random);
        return order;
    }

    private static void shuffle(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
    }
}

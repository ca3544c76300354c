package org.lrdkt.train;

import com.fasterxml.jackson.core.type.TypeReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.lrdkt.Fidelity;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.data.RandomResizedCrop;
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
    private final TrainSamples data;
    private final FinetuneOptions options;
    private final FinetuneOptions.Schedule schedule;
    private final FinetuneOptions.Transfer transfer;
    private final FinetuneOptions.Sampling sampling;
    private final String input;
    /** The outputs both models share, each with its transfer loss resolved ({@code --output-loss auto} decided). */
    private final List<TransferredOutput> outputs;
    /** The output hard labels apply to (the first rank-2 softmax one), or null when none fits. */
    private final String labelledOutput;
    private final long[] inputShape;
    private final RandomAffine augmentation;
    /** Random-resized crops of the decoded training images, or null. */
    private final RandomResizedCrop cropping;
    private final List<String> hints;
    /** The tensors the loss reads of both models: the transferred outputs, and the hint tensors when hints count. */
    private final Set<String> lossTensors;
    private final boolean useLabels;
    /**
     * Native memory of a training step's (or evaluation batch's) arrays that outlive one phase of it: the student's
     * activations, which its backward pass reads, the teacher tensors the loss reads, and the loss's gradients.
     */
    private final Scratch stepMemory = new Scratch("lrdkt-step");
    /**
     * Native memory of one phase (the teacher's forward pass, the loss, the student's backward pass, an evaluation
     * forward pass), reused by the next: a phase's arrays are dead when it ends, except what it hands to
     * {@link #stepMemory}. Both are freed when {@link #run} ends.
     */
    private final Scratch phaseMemory = new Scratch("lrdkt-phase");

    private Finetuner(OnnxModel teacherModel, OnnxModel studentModel, TrainSamples data, FinetuneOptions options)
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
        List<String> shared = teacher.outputNames().stream().filter(student.outputNames()::contains).toList();
        if (shared.isEmpty()) {
            throw notDecomposition("outputs " + teacher.outputNames() + " vs " + student.outputNames()
                    + " (fine-tuning transfers the outputs both models share by name)");
        }
        input = teacher.inputNames().get(0);
        long[] t = declaredShape(Graph.of(teacherModel), input);
        long[] s = declaredShape(Graph.of(studentModel), input);
        if (t != null && s != null && !compatible(t, s)) {
            throw notDecomposition("input '" + input + "' has shape " + Arrays.toString(t) + " in the teacher and "
                    + Arrays.toString(s) + " in the student");
        }
        inputShape = sampleShape(t != null ? t : s, data);
        FinetuneOptions.Augmentation views = options.augmentation();
        augmentation = RandomAffine.forSamples(inputShape, views.shift(), views.rotate(), views.zoom(), views.flip());
        cropping = views.cropScale() > 0 ? new RandomResizedCrop(views.cropScale()) : null;
        if (cropping != null && !data.decodesImages()) {
            throw LrdktException.usage("random-resized crops (--random-crop) are drawn from decoded images: they "
                    + "need an image folder, not " + data.source());
        }
        hints = resolveHints(studentModel, transfer.hints());
        if (student.parameters().isEmpty()) {
            throw LrdktException.badInput("the student has no trainable weights (no constant Conv/Gemm/MatMul weights)");
        }
        Map<String, long[]> shapes = dryRun(shared);
        Map<String, KtLoss.OutputLoss> requested = (transfer.outputLoss() == null ? OutputLosses.AUTO
                : transfer.outputLoss()).forOutputs(shared);
        Graph teacherGraph = Graph.of(teacherModel);
        List<TransferredOutput> resolved = new ArrayList<>();
        for (String name : shared) {
            NodeProto producer = teacherGraph.producer(name);
            String producerOp = producer == null ? null : producer.getOpType();
            long[] shape = shapes.get(name);
            KtLoss.OutputLoss loss = KtLoss.resolve(requested.get(name), shape, producerOp);
            if (loss == KtLoss.OutputLoss.SOFTMAX && shape.length != 2 && shape.length != 3 && shape.length != 4) {
                throw LrdktException.usage("--output-loss softmax needs an output of rank 2, 3 or 4; '" + name
                        + "' has shape " + Arrays.toString(shape));
            }
            // a Softmax or Sigmoid node already normalised what its loss would normalise again
            boolean probabilities = loss == KtLoss.OutputLoss.SOFTMAX && "Softmax".equals(producerOp)
                    || loss == KtLoss.OutputLoss.SIGMOID && "Sigmoid".equals(producerOp);
            resolved.add(new TransferredOutput(name, loss, probabilities, shape));
        }
        outputs = List.copyOf(resolved);
        lossTensors = lossTensors(outputs, transfer.hintWeight() > 0 ? hints : List.of());
        // hard labels only fit rank-2 classifier logits; elsewhere the transfer is label-free
        labelledOutput = outputs.stream().filter(TransferredOutput::takesLabels).map(TransferredOutput::name)
                .findFirst().orElse(null);
        useLabels = data.labelled() && !transfer.ignoreLabels() && labelledOutput != null;
        if (!useLabels && transfer.softWeight() == 0 && (transfer.hintWeight() == 0 || hints.isEmpty())) {
            throw LrdktException.usage("nothing to learn from: no labels"
                    + (data.labelled() ? (labelledOutput != null ? " (ignored)" : " (they fit none of the outputs "
                    + shared + ")") : "") + ", soft weight 0 and no hint term");
        }
        if (useLabels) {
            checkLabels(shapes.get(labelledOutput)[1]);
        }
    }

    /** A model output in the transfer loss: its resolved loss, whether it holds probabilities, its batch shape. */
    private record TransferredOutput(String name, KtLoss.OutputLoss loss, boolean probabilities, long[] shape) {
        boolean takesLabels() {
            return loss == KtLoss.OutputLoss.SOFTMAX && shape.length == 2;
        }

        KtLoss.Output with(INDArray student, INDArray teacher, int[] labels) {
            return new KtLoss.Output(name, loss, probabilities, student, teacher, labels);
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
    private static long[] sampleShape(long[] declared, TrainSamples data) throws LrdktException {
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
     * One forward pass of both models on two samples: shapes of outputs and hints must agree. Returns the teacher's
     * output shapes.
     */
    @SuppressWarnings("try") // the workspace scope is the point; its handle is never read
    private Map<String, long[]> dryRun(List<String> shared) throws LrdktException {
        // its own scratch, returned to the system at once (arrays outside one would wait for a garbage collection)
        try (Scratch memory = new Scratch("lrdkt-dry-run"); MemoryWorkspace ignored = memory.cycle()) {
            return dryRunShapes(shared);
        }
    }

    private Map<String, long[]> dryRunShapes(List<String> shared) throws LrdktException {
        int[] two = data.size() > 1 ? new int[] {0, 1} : new int[] {0};
        INDArray x = data.batch(two, inputShape, DataType.FLOAT);
        Map<String, INDArray> t = teacher.forward(Map.of(input, x));
        Map<String, INDArray> s = student.forward(Map.of(input, x));
        List<String> compared = new ArrayList<>(shared);
        compared.addAll(hints);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (String name : compared) {
            if (!Arrays.equals(t.get(name).shape(), s.get(name).shape())) {
                throw notDecomposition("tensor '" + name + "' has shape " + Arrays.toString(t.get(name).shape())
                        + " in the teacher and " + Arrays.toString(s.get(name).shape()) + " in the student");
            }
            shapes.put(name, t.get(name).shape());
        }
        return shapes;
    }

    /**
     * Fine-tunes {@code student} against {@code teacher} on {@code data}; returns a copy of the student with the
     * best epoch's weights. Neither model object is changed.
     */
    public static FinetuneResult finetune(OnnxModel teacher, OnnxModel student, TrainSamples data,
                                          FinetuneOptions options, Progress progress) throws LrdktException {
        return new Finetuner(teacher, student, data, options).run(progress);
    }

    /** Checks the inputs and builds both mirrors without training (tests inspect the teacher through this). */
    static Finetuner prepare(OnnxModel teacher, OnnxModel student, TrainSamples data, FinetuneOptions options)
            throws LrdktException {
        return new Finetuner(teacher, student, data, options);
    }

    Mirror teacherMirror() {
        return teacher;
    }

    FinetuneResult run(Progress progress) throws LrdktException {
        try (stepMemory; phaseMemory) {
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
        KtLoss loss = new KtLoss(transfer.softWeight(), transfer.temperature(), transfer.hintWeight());
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
        double seconds = (System.nanoTime() - started) / 1e9;
        Map<String, KtLoss.OutputLoss> losses = new LinkedHashMap<>();
        outputs.forEach(o -> losses.put(o.name(), o.loss()));
        return new FinetuneResult(student.writeBack(studentModel), metric(), initial.score(), initial.loss(),
                teacherScore, bestEpoch, bestScore, hints, losses, history, train.length, held, seconds);
    }

    /**
     * What the held-out score is: accuracy against labels, else the fidelity figure of the one output
     * ({@link Fidelity.Figures#headline}), or their mean over several outputs.
     */
    private String metric() {
        if (useLabels) {
            return "accuracy";
        }
        return outputs.size() == 1 ? Fidelity.Figures.headlineName(outputs.get(0).loss().kind()) : "mean fidelity";
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
        long loaderNanos = 0;
        NativeMemoryGuard memory = new NativeMemoryGuard();
        int stepsPerEpoch = (order.length + schedule.batch() - 1) / schedule.batch();
        TrainSamples.Views epochViews = new TrainSamples.Views(augmentation, views, cropping,
                sampling.seed() * 1_000_037L + epoch);
        try (TrainSamples.Loader batches = data.loader(batches(order, schedule.batch()), epochViews)) {
            for (int from = 0; from < order.length; from += schedule.batch()) {
                int[] idx = Arrays.copyOfRange(order, from, Math.min(order.length, from + schedule.batch()));
                double rate = schedule.learningRateAt(epoch - 1 + (double) from / order.length, stepsPerEpoch);
                optimizer.learningRate(rate);
                long asked = System.nanoTime();
                float[] x = batches.next();
                loaderNanos += System.nanoTime() - asked;
                KtLoss.Terms terms = step(idx, x, loss, optimizer);
                if (!Double.isFinite(terms.total())) {
                    throw LrdktException.badInput(String.format(Locale.ROOT, "training diverged in epoch %d "
                            + "(the loss became %s at learning rate %.3g); try a lower --lr or a longer "
                            + "--warmup-epochs", epoch, terms.total(), rate));
                }
                memory.check();
                hard += terms.hard() * idx.length;
                soft += terms.soft() * idx.length;
                hint += terms.hint() * idx.length;
                done += idx.length;
                progress.step(done, terms, done / ((System.nanoTime() - start) / 1e9));
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double loaderMs = loaderNanos / 1e6 / stepsPerEpoch;
        ScoreAndLoss after = scoreAndLoss(student, scored, loss);
        return new FinetuneResult.Epoch(epoch, hard / done, soft / done, hint / done, after.score(), after.loss(),
                seconds, done / seconds, seconds * 1e3 / stepsPerEpoch - loaderMs, loaderMs);
    }

    /** {@code order} cut into batches of {@code size} (the last one shorter). */
    private static List<int[]> batches(int[] order, int size) {
        List<int[]> out = new ArrayList<>();
        for (int from = 0; from < order.length; from += size) {
            out.add(Arrays.copyOfRange(order, from, Math.min(order.length, from + size)));
        }
        return out;
    }

    @SuppressWarnings("try") // the workspace scope is the point; its handle is never read
    private KtLoss.Terms step(int[] idx, float[] values, KtLoss loss, Optimizer optimizer) throws LrdktException {
        try (MemoryWorkspace ignored = stepMemory.cycle()) {
            return stepInScratch(idx, values, loss, optimizer);
        }
    }

    @SuppressWarnings("try") // the workspace scopes are the point; their handles are never read
    private KtLoss.Terms stepInScratch(int[] idx, float[] values, KtLoss loss, Optimizer optimizer)
            throws LrdktException {
        INDArray x = TrainSamples.tensor(values, idx.length, inputShape, DataType.FLOAT);
        Map<String, INDArray> t = needsTeacher() ? forwardKeeping(teacher, x, lossTensors) : Map.of();
        Map<String, INDArray> s = student.forward(Map.of(input, x), lossTensors);
        KtLoss.Evaluation e;
        Map<String, INDArray> seeds;
        try (MemoryWorkspace ignored = phaseMemory.cycle()) {
            e = evaluate(loss, idx, s, t);
            seeds = stepMemory.adopt(e.gradients());
        }
        Mirror.Gradients gradients;
        try (ReleasingPhase phase = new ReleasingPhase(phaseMemory, stepMemory)) {
            gradients = student.backward(s, seeds, phase);
        }
        try (MemoryWorkspace ignored = phaseMemory.cycle()) {
            optimizer.step(gradients);
        }
        return e.terms();
    }

    private static Set<String> lossTensors(List<TransferredOutput> outputs, List<String> hints) {
        Set<String> read = new HashSet<>(hints);
        outputs.forEach(o -> read.add(o.name()));
        return Set.copyOf(read);
    }

    /**
     * {@code model}'s forward pass on {@code x} in phase memory, let go of as it goes; returns only the {@code kept}
     * tensors, moved into step memory. A pass whose activations no backward pass reads needs no more.
     */
    private Map<String, INDArray> forwardKeeping(Mirror model, INDArray x, Set<String> kept) throws LrdktException {
        try (ReleasingPhase phase = new ReleasingPhase(phaseMemory, stepMemory)) {
            Map<String, INDArray> values = model.infer(Map.of(input, x), kept, phase);
            Map<String, INDArray> wanted = new HashMap<>();
            kept.forEach(name -> wanted.put(name, values.get(name)));
            return stepMemory.adopt(wanted);
        }
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
        int[] labels = useLabels ? data.labels(idx) : null;
        List<KtLoss.Output> terms = new ArrayList<>();
        for (TransferredOutput o : outputs) {
            terms.add(o.with(s.get(o.name()), t.get(o.name()), o.name().equals(labelledOutput) ? labels : null));
        }
        return loss.evaluate(terms, pairs);
    }

    /** A model's score on some samples, and the student's mean loss on them (NaN when not asked for). */
    private record ScoreAndLoss(double score, double loss) {
    }

    /**
     * Accuracy against labels (else the fidelity to the teacher, {@link #metric}) of {@code model} on unaugmented
     * {@code samples}, and, when {@code loss} is given, the student's knowledge-transfer loss on them.
     */
    @SuppressWarnings("try") // the workspace scope is the point; its handle is never read
    private ScoreAndLoss scoreAndLoss(Mirror model, int[] samples, KtLoss loss) throws LrdktException {
        long correct = 0;
        List<Fidelity> fidelity = new ArrayList<>();
        for (TransferredOutput o : outputs) {
            fidelity.add(new Fidelity(o.name(), o.loss().kind(), o.probabilities()));
        }
        double lossSum = 0;
        int batch = (int) Math.max(schedule.batch(),
                Math.min(EVAL_BATCH, EVAL_BATCH_ELEMENTS / Math.max(1, data.sampleSize())));
        List<int[]> batches = batches(samples, batch);
        try (TrainSamples.Loader loader = data.loader(batches, null)) {
            for (int[] idx : batches) {
                float[] values = loader.next();
                try (MemoryWorkspace ignored = stepMemory.cycle()) {
                    INDArray x = TrainSamples.tensor(values, idx.length, inputShape, DataType.FLOAT);
                    Map<String, INDArray> out = forwardKeeping(model, x, lossTensors);
                    Map<String, INDArray> t = (loss != null && needsTeacher()) || !useLabels
                            ? forwardKeeping(teacher, x, lossTensors) : Map.of();
                    if (useLabels) {
                        int[] predicted = out.get(labelledOutput).argMax(1).toIntVector();
                        int[] reference = data.labels(idx);
                        for (int i = 0; i < idx.length; i++) {
                            correct += predicted[i] == reference[i] ? 1 : 0;
                        }
                    } else {
                        for (int i = 0; i < outputs.size(); i++) {
                            String name = outputs.get(i).name();
                            fidelity.get(i).add(floats(out.get(name)), floats(t.get(name)), out.get(name).shape(),
                                    idx.length);
                        }
                    }
                    if (loss != null) {
                        try (MemoryWorkspace phase = phaseMemory.cycle()) {
                            lossSum += evaluate(loss, idx, out, t).terms().total() * idx.length;
                        }
                    }
                }
            }
        }
        double score = useLabels ? (double) correct / samples.length
                : fidelity.stream().mapToDouble(f -> f.figures().headline()).average().orElse(0);
        return new ScoreAndLoss(score, loss == null ? Double.NaN : lossSum / samples.length);
    }

    private static float[] floats(INDArray a) {
        return a.castTo(DataType.FLOAT).ravel().toFloatVector();
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

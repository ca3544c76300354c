package org.lrdkt.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.Cli;
import org.lrdkt.LrdktException;
import org.lrdkt.TestModels;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.StringStringEntryProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

class OnnxModelTest {

    @TempDir
    Path dir;

    private static Inference.Tensor digits(int batch) {
        float[] x = new float[batch * 28 * 28];
        Random r = new Random(7);
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        return new Inference.Tensor(x, new long[] {batch, 1, 28, 28});
    }

    private static float[] logits(OnnxModel model, Inference.Tensor input) throws LrdktException {
        try (Inference session = Inference.open(model, Inference.Settings.defaults())) {
            return session.run(input).values();
        }
    }

    @Test
    void loadsTheLeNetFixture() throws Exception {
        OnnxModel model = OnnxModel.load(TestModels.LENET);
        assertEquals(5, Graph.of(model).layers().size());
        assertEquals(13, model.proto().getOpsetImport(0).getVersion());
    }

    @Test
    void loadingAliasesTheFileInsteadOfCopyingIt() throws Exception {
        OnnxModel model = OnnxModel.load(TestModels.LENET);
        ModelProto copied = ModelProto.parseFrom(Files.readAllBytes(TestModels.LENET));
        for (int i = 0; i < model.graph().getInitializerCount(); i++) {
            TensorProto t = model.graph().getInitializer(i);
            if (t.getRawData().size() > 0) {
                // weights stay in the memory-mapped file (a direct buffer), not in a heap copy
                assertTrue(t.getRawData().asReadOnlyByteBuffer().isDirect(), t.getName());
            }
            assertEquals(copied.getGraph().getInitializer(i), t);
        }
    }

    @Test
    void resavedModelGivesIdenticalOutputs() throws Exception {
        OnnxModel original = OnnxModel.load(TestModels.LENET);
        Path copy = dir.resolve("copy.onnx");
        original.save(copy, OnnxModel.ExternalData.NEVER);
        Inference.Tensor x = digits(4);
        assertArrayEquals(logits(original, x), logits(OnnxModel.load(copy), x));
    }

    @Test
    void savingOverAModelWithExternalDataNeverWritesIntoTheDataFileItReadsFrom() throws Exception {
        OnnxModel original = OnnxModel.load(TestModels.LENET);
        Path model = dir.resolve("m.onnx");
        Inference.Tensor x = digits(2);
        original.save(model, OnnxModel.ExternalData.ALWAYS);
        byte[] first = Files.readAllBytes(dir.resolve("m.onnx.data"));
        // the second save must leave m.onnx.data whole until m.onnx points elsewhere: it writes the other name
        original.save(model, OnnxModel.ExternalData.ALWAYS);
        assertTrue(Files.exists(dir.resolve("m.onnx.b.data")));
        assertFalse(Files.exists(dir.resolve("m.onnx.data")), "the replaced model's data is removed afterwards");
        assertArrayEquals(logits(original, x), logits(OnnxModel.load(model), x));
        original.save(model, OnnxModel.ExternalData.ALWAYS);
        assertArrayEquals(first, Files.readAllBytes(dir.resolve("m.onnx.data")), "and back again");
        assertFalse(Files.exists(dir.resolve("m.onnx.b.data")));
        assertArrayEquals(logits(original, x), logits(OnnxModel.load(model), x));
    }

    @Test
    void externalDataRoundTripsAndOrtReadsIt() throws Exception {
        OnnxModel original = OnnxModel.load(TestModels.LENET);
        Path external = dir.resolve("ext.onnx");
        original.save(external, OnnxModel.ExternalData.ALWAYS);
        Path data = dir.resolve("ext.onnx.data");
        assertTrue(Files.size(data) > 200_000, "weights moved to the data file");
        assertTrue(Files.size(external) < 20_000, "model file holds only the graph");
        Inference.Tensor x = digits(2);
        assertArrayEquals(logits(original, x), logits(OnnxModel.load(external), x));
        // ONNX Runtime reading the file itself agrees: the layout is the standard one
        try (OrtSession s = OrtEnvironment.getEnvironment()
                .createSession(external.toString(), new OrtSession.SessionOptions());
             OnnxTensor in = OnnxTensor.createTensor(
                     OrtEnvironment.getEnvironment(), FloatBuffer.wrap(x.values()), x.shape());
             OrtSession.Result r = s.run(Map.of("input", in))) {
            float[][] out = (float[][]) r.get(0).getValue();
            float[] flat = new float[20];
            System.arraycopy(out[0], 0, flat, 0, 10);
            System.arraycopy(out[1], 0, flat, 10, 10);
            assertArrayEquals(logits(original, x), flat);
        }
    }

    @Test
    void refusesToOverwriteItsInput() throws Exception {
        Path copy = dir.resolve("m.onnx");
        Files.copy(TestModels.LENET, copy);
        OnnxModel model = OnnxModel.load(copy);
        LrdktException e = assertThrows(LrdktException.class,
                () -> model.save(dir.resolve("./m.onnx"), OnnxModel.ExternalData.AUTO));
        assertEquals(LrdktException.Kind.USAGE, e.kind());
        assertArrayEquals(Files.readAllBytes(TestModels.LENET), Files.readAllBytes(copy));
    }

    @Test
    void savingLeavesNoTempFiles() throws Exception {
        OnnxModel.load(TestModels.LENET).save(dir.resolve("out.onnx"), OnnxModel.ExternalData.AUTO);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private void assertBadInput(Path p, String expectedWords) {
        LrdktException e = assertThrows(LrdktException.class, () -> OnnxModel.load(p));
        assertEquals(LrdktException.Kind.BAD_INPUT, e.kind());
        assertTrue(e.getMessage().contains(expectedWords), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        Cli.Result cli = Cli.run("inspect", p.toString());
        assertEquals(1, cli.exitCode());
        assertTrue(cli.errIsOneLine(), cli.err());
    }

    @Test
    void badFilesGiveOneLineErrors() throws Exception {
        byte[] lenet = Files.readAllBytes(TestModels.LENET);
        assertBadInput(write("truncated.onnx", Arrays.copyOf(lenet, lenet.length / 2)), "truncated");
        byte[] random = new byte[4096];
        new Random(1).nextBytes(random);
        assertBadInput(write("random.onnx", random), "not an ONNX model");
        assertBadInput(write("text.onnx", "graph { node { op_type: \"Conv\" } }\n".repeat(20)
                .getBytes(StandardCharsets.UTF_8)), "not an ONNX model");
        assertBadInput(write("empty.onnx", new byte[0]), "empty");
        assertBadInput(dir.resolve("missing.onnx"), "not found");
    }

    private Path externalModel(String location, long offset, long length) throws Exception {
        ModelProto proto = OnnxModel.load(TestModels.LENET).proto();
        var graph = proto.getGraph().toBuilder();
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            TensorProto t = graph.getInitializer(i);
            if (t.getName().equals("fc1.weight")) {
                graph.setInitializer(i, t.toBuilder().clearRawData()
                        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location))
                        .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue("" + offset))
                        .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue("" + length)));
            }
        }
        Path model = dir.resolve("sub").resolve("hostile.onnx");
        Files.createDirectories(model.getParent());
        Files.write(model, proto.toBuilder().setGraph(graph).build().toByteArray());
        return model;
    }

    @Test
    void externalDataCannotEscapeTheModelFolder() throws Exception {
        Files.write(dir.resolve("secret.bin"), new byte[120 * 400 * 4]);
        assertBadInput(externalModel("../secret.bin", 0, 120 * 400 * 4), "leaves the model's folder");
        assertBadInput(externalModel(dir.resolve("secret.bin").toString(), 0, 120 * 400 * 4), "absolute");
        Files.createSymbolicLink(dir.resolve("sub").resolve("link.bin"), dir.resolve("secret.bin"));
        assertBadInput(externalModel("link.bin", 0, 120 * 400 * 4), "outside the model's folder");
    }

    @Test
    void externalDataOutsideItsFileIsAnError() throws Exception {
        Files.createDirectories(dir.resolve("sub"));
        Files.write(dir.resolve("sub").resolve("w.bin"), new byte[1000]);
        assertBadInput(externalModel("w.bin", 0, 120 * 400 * 4), "does not fit");
        assertBadInput(externalModel("w.bin", 5000, 16), "does not fit");
        assertBadInput(externalModel("nothere.bin", 0, 16), "not found");
    }

    @Test
    void aSaveThatFailsAfterWritingTheDataFileRemovesIt() throws Exception {
        Path folderInTheWay = Files.createDirectory(dir.resolve("m.onnx"));
        OnnxModel model = OnnxModel.load(TestModels.LENET);
        assertThrows(LrdktException.class, () -> model.save(folderInTheWay, OnnxModel.ExternalData.ALWAYS));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(folderInTheWay), left.toList());
        }
    }
}

package org.lrdkt.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.StringStringEntryProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/**
 * An ONNX model in memory, with every tensor's data inline. Loading reads external data (refusing locations that
 * escape the model's folder); saving is atomic, lists initializers as inputs where the IR version requires it, and
 * writes external data when the model is too large for one protobuf file (2 GiB) or when asked.
 */
public final class OnnxModel {

    /** Where tensor data goes when saving. */
    public enum ExternalData {
        /** Inline unless the model would exceed protobuf's 2 GiB limit. */
        AUTO,
        /** Tensors of 1 KiB and more go to {@code <model file>.data}. */
        ALWAYS,
        /** Everything inline; fails for models over 2 GiB. */
        NEVER
    }

    /** Protobuf refuses messages of 2 GiB and more; keep a margin for the graph itself. */
    static final long MAX_INLINE_BYTES = (1L << 31) - (64L << 20);
    private static final int EXTERNAL_MIN_BYTES = 1024;
    private static final int EXTERNAL_ALIGNMENT = 4096;

    private final ModelProto proto;
    private final Path source;

    private OnnxModel(ModelProto proto, Path source) {
        this.proto = proto;
        this.source = source;
    }

    /** Wraps a model built in memory (tests, rewrites). */
    public static OnnxModel of(ModelProto proto) {
        return new OnnxModel(proto, null);
    }

    public ModelProto proto() {
        return proto;
    }

    public GraphProto graph() {
        return proto.getGraph();
    }

    /** The file this model was loaded from, or null for a model built in memory. */
    public Path source() {
        return source;
    }

    /** The same provenance with a new proto: rewrites keep track of the file they came from. */
    public OnnxModel withProto(ModelProto newProto) {
        return new OnnxModel(newProto, source);
    }

    /** lrdkt's metadata on a student: JSON object {layer name: K}, the ranks it was decomposed with. */
    public static final String RANKS_METADATA_KEY = "lrdkt.ranks";
    /** lrdkt's metadata on a student: JSON array of the decomposed layers' output tensors (default KT hints). */
    public static final String HINTS_METADATA_KEY = "lrdkt.hints";

    public String metadata(String key) {
        for (StringStringEntryProto e : proto.getMetadataPropsList()) {
            if (e.getKey().equals(key)) {
                return e.getValue();
            }
        }
        return null;
    }

    /** Whether the model fits in one protobuf message (under 2 GiB with all data inline). */
    public boolean fitsInline() {
        return inlineSize(proto) <= MAX_INLINE_BYTES;
    }

    /** Protobuf size with every weight inline: exact under 2 GiB, past it (int sizes overflow) an estimate. */
    public long serializedBytes() {
        return fitsInline() ? proto.getSerializedSize() : inlineSize(proto);
    }

    /** Serialized bytes of the whole model with inline data; only for models under 2 GiB. */
    public byte[] toBytes() throws LrdktException {
        if (inlineSize(proto) > MAX_INLINE_BYTES) {
            throw LrdktException.unsupported("model is over 2 GiB and cannot be serialized in one piece");
        }
        return proto.toByteArray();
    }

    public static OnnxModel load(Path path) throws LrdktException {
        if (!Files.exists(path)) {
            throw LrdktException.badInput("model file not found: " + path);
        }
        if (Files.isDirectory(path)) {
            throw LrdktException.badInput("model path is a folder, expected an .onnx file: " + path);
        }
        ModelProto proto;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size == 0) {
                throw LrdktException.badInput("not an ONNX model (empty file): " + path);
            }
            if (size >= Integer.MAX_VALUE) {
                throw LrdktException.badInput("not an ONNX model (a protobuf file cannot reach 2 GiB; models that "
                        + "large keep their weights in external data): " + path);
            }
            // Mapped and aliased: tensor bytes stay in the file's page cache instead of being copied onto the heap
            // (VGG-16's 528 MiB once, not twice), and only the pages of the tensors actually read are touched.
            // Protobuf aliases a direct buffer only when it is marked immutable, which a plain
            // CodedInputStream.newInstance(ByteBuffer) is not (it copies every bytes field): wrap it first.
            CodedInputStream coded = UnsafeByteOperations.unsafeWrap(MappedFiles.map(path, channel)).newCodedInput();
            coded.enableAliasing(true);
            coded.setSizeLimit(Integer.MAX_VALUE);
            coded.setRecursionLimit(200);
            proto = ModelProto.parseFrom(coded);
        } catch (InvalidProtocolBufferException e) {
            String why = e.getMessage() != null && e.getMessage().contains("ended unexpectedly")
                    ? "truncated ONNX file" : "not an ONNX model (not a valid ONNX protobuf)";
            throw LrdktException.badInput(why + ": " + path);
        } catch (NoSuchFileException e) {
            throw LrdktException.badInput("model file not found: " + path);
        } catch (IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot read " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // protobuf throws unchecked exceptions on some corrupt inputs (e.g. bad UTF-8 in lite mode)
            throw LrdktException.badInput("not an ONNX model (corrupt protobuf): " + path);
        }
        checkLooksLikeOnnx(proto, path);
        Path dir = path.toAbsolutePath().getParent();
        ModelProto inlined = ExternalDataReader.inline(proto, dir);
        checkTensors(inlined.getGraph());
        return new OnnxModel(inlined, path.toAbsolutePath());
    }

    private static void checkLooksLikeOnnx(ModelProto proto, Path path) throws LrdktException {
        // Random bytes sometimes parse as a protobuf of unknown fields; a real model has these.
        if (!proto.hasGraph() || proto.getIrVersion() <= 0 || proto.getIrVersion() > 100
                || proto.getOpsetImportCount() == 0) {
            throw LrdktException.badInput("not an ONNX model (no graph, IR version or opset): " + path);
        }
        if (proto.getGraph().getNodeCount() == 0) {
            throw LrdktException.badInput("ONNX model has an empty graph: " + path);
        }
    }

    private static void checkTensors(GraphProto graph) throws LrdktException {
        for (TensorProto t : graph.getInitializerList()) {
            TensorData.checkConsistent(t);
        }
        for (NodeProto n : graph.getNodeList()) {
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasT()) {
                    TensorData.checkConsistent(a.getT());
                }
            }
        }
    }

    /** Writes the model atomically; never over the file it was loaded from. */
    public void save(Path target, ExternalData mode) throws LrdktException {
        if (source != null) {
            AtomicFiles.checkNotSameFile(source, target);
        }
        ModelProto listed = LegacyInitializerInputs.listed(proto);
        long size = inlineSize(listed);
        boolean external = mode == ExternalData.ALWAYS || (mode == ExternalData.AUTO && size > MAX_INLINE_BYTES);
        if (!external && size > MAX_INLINE_BYTES) {
            throw LrdktException.usage("model is " + (size >> 20) + " MiB, over protobuf's 2 GiB limit; "
                    + "save it with external data");
        }
        if (!external) {
            AtomicFiles.write(target, out -> listed.writeTo(out));
            return;
        }
        // Data first, model last, and never into the data file a previous model of the same name refers to: until
        // the new model file is renamed into place, the old model and its data stay whole.
        String previous = referencedDataFile(target);
        Path dataFile = target.resolveSibling(target.getFileName() + ".data");
        if (dataFile.getFileName().toString().equals(previous)) {
            dataFile = target.resolveSibling(target.getFileName() + ".b.data");
        }
        List<TensorProto> moved = new ArrayList<>();
        ModelProto withRefs = externalize(listed, dataFile.getFileName().toString(), moved);
        AtomicFiles.write(dataFile, out -> {
            // through a channel, which copies in small chunks: ByteString.writeTo(OutputStream) first copies a
            // mapped or wrapped tensor whole onto the heap
            WritableByteChannel channel = Channels.newChannel(out);
            long written = 0;
            for (TensorProto t : moved) {
                long padding = padTo(written);
                out.write(new byte[(int) padding]);
                written += padding;
                ByteBuffer data = t.getRawData().asReadOnlyByteBuffer();
                while (data.hasRemaining()) {
                    channel.write(data);
                }
                written += t.getRawData().size();
            }
        });
        try {
            AtomicFiles.write(target, out -> {
                CodedOutputStream coded = CodedOutputStream.newInstance(out);
                withRefs.writeTo(coded);
                coded.flush();
            });
        } catch (LrdktException | RuntimeException | Error e) {
            deleteQuietly(dataFile); // no model refers to it: a failed save leaves nothing behind
            throw e;
        }
        if (previous != null && !previous.equals(dataFile.getFileName().toString())) {
            deleteQuietly(target.resolveSibling(previous)); // the replaced model's data, now unreferenced
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // harmless: an orphan file beside the model, overwritten by the next save
        }
    }

    /**
     * The data file (a sibling name) that the model already at {@code target} refers to, or null when there is none,
     * it cannot be read, or it keeps its weights inline (then it may be huge, and its data file does not matter).
     */
    private static String referencedDataFile(Path target) {
        try {
            if (!Files.isRegularFile(target) || Files.size(target) > MAX_INLINE_BYTES) {
                return null;
            }
            ModelProto existing;
            try (InputStream in = Files.newInputStream(target)) {
                existing = ModelProto.parseFrom(in);
            }
            for (TensorProto t : existing.getGraph().getInitializerList()) {
                for (StringStringEntryProto e : t.getExternalDataList()) {
                    if (e.getKey().equals("location")) {
                        return Path.of(e.getValue()).getFileName().toString();
                    }
                }
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long padTo(long offset) {
        long rem = offset % EXTERNAL_ALIGNMENT;
        return rem == 0 ? 0 : EXTERNAL_ALIGNMENT - rem;
    }

    /** Replaces large initializer data by references into one data file; collects the moved tensors in order. */
    private static ModelProto externalize(ModelProto model, String location, List<TensorProto> moved) {
        GraphProto.Builder graph = model.getGraph().toBuilder();
        long offset = 0;
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            TensorProto t = graph.getInitializer(i);
            if (!t.hasRawData() || t.getRawData().size() < EXTERNAL_MIN_BYTES) {
                continue;
            }
            offset += padTo(offset);
            long length = t.getRawData().size();
            moved.add(t);
            graph.setInitializer(i, t.toBuilder().clearRawData()
                    .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(entry("location", location))
                    .addExternalData(entry("offset", Long.toString(offset)))
                    .addExternalData(entry("length", Long.toString(length)))
                    .build());
            offset += length;
        }
        return model.toBuilder().setGraph(graph).build();
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** Size of the model with all data inline, in a long: ModelProto.getSerializedSize() overflows past 2 GiB. */
    static long inlineSize(ModelProto model) {
        long total = 0;
        for (TensorProto t : model.getGraph().getInitializerList()) {
            total += t.getSerializedSize() + 8L;
        }
        for (NodeProto n : model.getGraph().getNodeList()) {
            for (AttributeProto a : n.getAttributeList()) {
                total += a.getSerializedSize() + 8L;
            }
        }
        return total + (1L << 20);
    }

    /** Reads a whole small file region; used for external data. */
    static ByteString readRegion(Path file, long offset, long length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate((int) length);
            ch.position(offset);
            while (buf.hasRemaining()) {
                if (ch.read(buf) < 0) {
                    throw new IOException("unexpected end of " + file);
                }
            }
            buf.flip();
            // the buffer is never touched again, so wrapping it avoids doubling a multi-GiB model in memory
            return UnsafeByteOperations.unsafeWrap(buf);
        }
    }
}

package org.lrdkt.onnx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.StringStringEntryProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/**
 * Inlines tensors stored with {@code data_location = EXTERNAL}. A location must be a relative path that stays
 * inside the model's folder after resolving symlinks (the class of bug behind ONNX's path-traversal CVE); offset
 * and length must lie inside the file.
 */
final class ExternalDataReader {

    private ExternalDataReader() {
    }

    static ModelProto inline(ModelProto model, Path modelDir) throws LrdktException {
        if (!usesExternalData(model.getGraph())) {
            return model;
        }
        GraphProto.Builder graph = model.getGraph().toBuilder();
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            TensorProto t = graph.getInitializer(i);
            if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
                graph.setInitializer(i, read(t, modelDir));
            }
        }
        for (int n = 0; n < graph.getNodeCount(); n++) {
            NodeProto node = graph.getNode(n);
            for (int a = 0; a < node.getAttributeCount(); a++) {
                AttributeProto attr = node.getAttribute(a);
                if (attr.hasT() && attr.getT().getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
                    graph.setNode(n, node.toBuilder().setAttribute(a, attr.toBuilder().setT(read(attr.getT(), modelDir))));
                    node = graph.getNode(n);
                }
            }
        }
        return model.toBuilder().setGraph(graph).build();
    }

    private static boolean usesExternalData(GraphProto graph) {
        for (TensorProto t : graph.getInitializerList()) {
            if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
                return true;
            }
        }
        for (NodeProto n : graph.getNodeList()) {
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasT() && a.getT().getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
                    return true;
                }
            }
        }
        return false;
    }

    private static TensorProto read(TensorProto t, Path modelDir) throws LrdktException {
        String name = t.getName();
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            try {
                switch (e.getKey()) {
                    case "location" -> location = e.getValue();
                    case "offset" -> offset = Long.parseLong(e.getValue());
                    case "length" -> length = Long.parseLong(e.getValue());
                    default -> { } // "checksum" and future keys carry nothing we need
                }
            } catch (NumberFormatException ex) {
                throw LrdktException.badInput("tensor '" + name + "' has a non-numeric external data "
                        + e.getKey() + ": '" + e.getValue() + "'");
            }
        }
        if (location == null || location.isEmpty()) {
            throw LrdktException.badInput("tensor '" + name + "' is stored externally but names no location");
        }
        Path file = resolveInside(name, location, modelDir);
        long elements = TensorData.elementCount(name, TensorData.dims(t));
        long needed;
        try {
            needed = Math.multiplyExact(elements, TensorData.byteWidth(name, t.getDataType()));
        } catch (ArithmeticException e) {
            throw LrdktException.badInput("tensor '" + name + "' claims more bytes than a long can count");
        }
        long fileSize;
        try {
            fileSize = Files.size(file);
        } catch (IOException e) {
            throw LrdktException.badInput("external data file of tensor '" + name + "' cannot be read: " + location);
        }
        if (length < 0) {
            length = needed;
        }
        if (offset < 0 || length != needed || offset > fileSize || length > fileSize - offset) {
            throw LrdktException.badInput("tensor '" + name + "': external data offset " + offset + " length "
                    + length + " does not fit its shape (" + needed + " bytes) inside " + location + " ("
                    + fileSize + " bytes)");
        }
        if (length > Integer.MAX_VALUE - 8) {
            throw LrdktException.unsupported("tensor '" + name + "' is over 2 GiB; one tensor must fit in 2 GiB");
        }
        try {
            return t.toBuilder().clearExternalData().clearDataLocation()
                    .setRawData(OnnxModel.readRegion(file, offset, length)).build();
        } catch (IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot read external data " + location + ": "
                    + e.getMessage(), e);
        }
    }

    private static Path resolveInside(String tensor, String location, Path modelDir) throws LrdktException {
        Path rel = Path.of(location);
        if (rel.isAbsolute() || location.startsWith("/") || location.startsWith("\\")) {
            throw LrdktException.badInput("tensor '" + tensor + "' has an absolute external data location '"
                    + location + "'; only paths inside the model's folder are allowed");
        }
        for (Path part : rel) {
            if (part.toString().equals("..")) {
                throw LrdktException.badInput("tensor '" + tensor + "' has external data location '" + location
                        + "' that leaves the model's folder");
            }
        }
        Path file = modelDir.resolve(rel).normalize();
        if (!Files.isRegularFile(file)) {
            throw LrdktException.badInput("external data file of tensor '" + tensor + "' not found: " + file);
        }
        try {
            Path realDir = modelDir.toRealPath();
            if (!file.toRealPath().startsWith(realDir)) {
                throw LrdktException.badInput("tensor '" + tensor + "' has external data location '" + location
                        + "' that resolves (through a link) outside the model's folder");
            }
        } catch (IOException e) {
            throw LrdktException.badInput("external data file of tensor '" + tensor + "' cannot be resolved: "
                    + location);
        }
        return file;
    }
}

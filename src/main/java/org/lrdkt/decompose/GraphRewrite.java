package org.lrdkt.decompose;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lrdkt.Json;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.StringStringEntryProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * Writes the student graph: each decomposed layer's node replaced in place by its factor nodes, folded
 * BatchNormalizations and weights nothing reads any more removed, and the ranks and hint tensors recorded in the
 * model's metadata.
 */
final class GraphRewrite {

    private GraphRewrite() {
    }

    /** The teacher's graph with each decomposed layer's node replaced in place by its pair. */
    static ModelProto rewrite(ModelProto teacher, List<LayerPlan> plans,
                                      Map<NodeProto, Factoriser.Replacement> replacements) {
        GraphProto graph = teacher.getGraph();
        Set<NodeProto> foldedNorms = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<String> maybeDead = new HashSet<>();
        Map<String, Integer> ranks = new LinkedHashMap<>();
        List<String> hints = new ArrayList<>();
        for (LayerPlan p : plans) {
            if (p.rank == 0) {
                continue;
            }
            Candidate c = p.candidate;
            ranks.put(c.name(), p.rank);
            hints.add(c.outputTensor());
            maybeDead.add(c.layer().weightTensor());
            if (c.layer().biasTensor() != null) {  // replaced when a norm is folded or calibration moves the bias
                maybeDead.add(c.layer().biasTensor());
            }
            if (c.batchNorm() != null) {
                foldedNorms.add(c.batchNorm());
                for (int i = 1; i < c.batchNorm().getInputCount(); i++) {
                    maybeDead.add(c.batchNorm().getInput(i));
                }
            }
        }
        List<NodeProto> nodes = new ArrayList<>();
        List<TensorProto> initializers = new ArrayList<>(graph.getInitializerList());
        for (NodeProto n : graph.getNodeList()) {
            Factoriser.Replacement r = replacements.get(n);
            if (r != null) {
                nodes.addAll(r.nodes());
                initializers.addAll(r.initializers());
            } else if (!foldedNorms.contains(n)) {
                nodes.add(n);
            }
        }
        GraphProto.Builder out = graph.toBuilder().clearNode().clearInitializer();
        removeDeadConstants(nodes, initializers, maybeDead, graph);
        out.addAllNode(nodes).addAllInitializer(initializers);
        // drop inputs and value_info of tensors that no longer exist (removed weights, pre-BN conv outputs)
        Set<String> present = new HashSet<>();
        nodes.forEach(n -> present.addAll(n.getOutputList()));
        initializers.forEach(t -> present.add(t.getName()));
        out.clearInput();
        for (ValueInfoProto v : graph.getInputList()) {
            if (present.contains(v.getName()) || graph.getInitializerList().stream().noneMatch(t -> t.getName()
                    .equals(v.getName()))) {
                out.addInput(v);
            }
        }
        out.clearValueInfo();
        graph.getValueInfoList().stream().filter(v -> present.contains(v.getName())).forEach(out::addValueInfo);

        ModelProto.Builder model = teacher.toBuilder().setGraph(out).clearMetadataProps();
        for (StringStringEntryProto e : teacher.getMetadataPropsList()) {
            if (!e.getKey().equals(OnnxModel.RANKS_METADATA_KEY) && !e.getKey().equals(OnnxModel.HINTS_METADATA_KEY)) {
                model.addMetadataProps(e);
            }
        }
        model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(OnnxModel.RANKS_METADATA_KEY)
                .setValue(compactJson(ranks)));
        model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(OnnxModel.HINTS_METADATA_KEY)
                .setValue(compactJson(hints)));
        return model.build();
    }

    /**
     * Removes the replaced weights (and BN parameters) when nothing reads them any more, through the Identity and
     * Cast chains that fed them to the layer.
     */
    private static void removeDeadConstants(List<NodeProto> nodes, List<TensorProto> initializers,
                                            Set<String> maybeDead, GraphProto graph) {
        Set<String> outputs = new HashSet<>();
        graph.getOutputList().forEach(v -> outputs.add(v.getName()));
        List<String> work = new ArrayList<>(maybeDead);
        while (!work.isEmpty()) {
            String t = work.remove(work.size() - 1);
            if (outputs.contains(t) || nodes.stream().anyMatch(n -> n.getInputList().contains(t))) {
                continue;
            }
            initializers.removeIf(i -> i.getName().equals(t));
            for (int i = 0; i < nodes.size(); i++) {
                NodeProto n = nodes.get(i);
                boolean passThrough = n.getOpType().equals("Identity") || n.getOpType().equals("Cast");
                if ((passThrough || n.getOpType().equals("Constant")) && n.getOutputCount() == 1
                        && n.getOutput(0).equals(t)) {
                    nodes.remove(i);
                    if (passThrough) {
                        work.add(n.getInput(0));
                    }
                    break;
                }
            }
        }
    }

    private static String compactJson(Object value) {
        try {
            return Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

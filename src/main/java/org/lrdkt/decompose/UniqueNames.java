package org.lrdkt.decompose;

import java.util.HashSet;
import java.util.Set;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/** Hands out node and tensor names no one in the graph uses yet: the readable name, or it with ".2", ".3"... */
final class UniqueNames {

    private final Set<String> taken = new HashSet<>();

    UniqueNames(GraphProto graph) {
        for (NodeProto n : graph.getNodeList()) {
            taken.add(n.getName());
            taken.addAll(n.getOutputList());
            taken.addAll(n.getInputList());
        }
        for (TensorProto t : graph.getInitializerList()) {
            taken.add(t.getName());
        }
        for (ValueInfoProto v : graph.getInputList()) {
            taken.add(v.getName());
        }
        for (ValueInfoProto v : graph.getOutputList()) {
            taken.add(v.getName());
        }
        for (ValueInfoProto v : graph.getValueInfoList()) {
            taken.add(v.getName());
        }
    }

    String take(String wanted) {
        String name = wanted;
        for (int i = 2; !taken.add(name); i++) {
            name = wanted + "." + i;
        }
        return name;
    }
}

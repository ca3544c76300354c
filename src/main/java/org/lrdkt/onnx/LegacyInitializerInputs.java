package org.lrdkt.onnx;

import java.util.HashSet;
import java.util.Set;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.TensorShapeProto;
import org.lrdkt.onnx.proto.Onnx.TypeProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * ONNX IR versions before 4 require every initializer to be listed among the graph's inputs as well (from IR 4 on an
 * initializer may stand alone, and exporters no longer list them). A rewrite keeps the input's IR version, so the
 * initializers it adds to such a model must be listed too, or ONNX's checker rejects the model.
 */
final class LegacyInitializerInputs {

    /** The first IR version whose initializers need not be graph inputs. */
    static final long FIRST_IR_WITH_UNLISTED_INITIALIZERS = 4;

    private LegacyInitializerInputs() {
    }

    /** {@code model} with every initializer listed as a graph input when its IR version requires it; else as is. */
    static ModelProto listed(ModelProto model) {
        if (model.getIrVersion() >= FIRST_IR_WITH_UNLISTED_INITIALIZERS) {
            return model;
        }
        GraphProto graph = model.getGraph();
        Set<String> inputs = new HashSet<>();
        graph.getInputList().forEach(v -> inputs.add(v.getName()));
        GraphProto.Builder listed = graph.toBuilder();
        for (TensorProto t : graph.getInitializerList()) {
            if (inputs.add(t.getName())) {
                listed.addInput(inputOf(t));
            }
        }
        return listed.getInputCount() == graph.getInputCount() ? model : model.toBuilder().setGraph(listed).build();
    }

    private static ValueInfoProto inputOf(TensorProto initializer) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        initializer.getDimsList().forEach(d -> shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d)));
        return ValueInfoProto.newBuilder().setName(initializer.getName()).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(initializer.getDataType()).setShape(shape)))
                .build();
    }
}

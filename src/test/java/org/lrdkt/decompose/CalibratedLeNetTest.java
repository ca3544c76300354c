package org.lrdkt.decompose;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.lrdkt.LrdktException;
import org.lrdkt.TestModels;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.validate.Evaluator;

/**
 * The trained LeNet-5 at a quarter of its MACs, before any fine-tuning: calibrated on training digits, the closed
 * form keeps at least 80% top-1 on the held-out test digits, where the weights alone keep about a third.
 */
class CalibratedLeNetTest {

    private static double top1(OnnxModel model) throws LrdktException {
        Preprocessing p = Preprocessing.defaults().withModelInput(Shapes.declaredInputDims(model));
        Dataset test = Datasets.open(TestModels.MNIST.resolve("t10k-images-idx3-ubyte.gz"), null, p);
        return Evaluator.evaluate(model, null, test, Evaluator.EvalOptions.defaults()).top1();
    }

    @Test
    void calibrationKeepsFourFifthsOfTheDigitsBeforeFineTuning() throws LrdktException {
        OnnxModel teacher = OnnxModel.load(TestModels.LENET);
        CompressOptions budget = CompressOptions.builder().target(CompressOptions.Policy.TARGET_MACS, 0.25).build();
        Calibration calibration = Calibration.of(TestModels.MNIST, Preprocessing.defaults());
        double plain = top1(Compressor.compress(teacher, budget).student());
        double dataRanks = top1(Compressor.compress(teacher, budget.toBuilder().calibration(calibration).build())
                .student());
        double weightRanks = top1(Compressor.compress(teacher,
                budget.toBuilder().calibration(calibration.withDataRanks(false)).build()).student());
        assertTrue(plain < 0.4, "plain closed form: " + plain);
        assertTrue(dataRanks >= 0.80, "calibrated, data-aware ranks: " + dataRanks);
        assertTrue(weightRanks >= 0.80, "calibrated, the weights' ranks: " + weightRanks);
    }
}

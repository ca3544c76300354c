package org.lrdkt.pipeline;

import java.nio.file.Path;
import org.lrdkt.Fidelity;
import org.lrdkt.TextTable;
import org.lrdkt.decompose.CompressReport;
import org.lrdkt.train.FinetuneResult;
import org.lrdkt.validate.Benchmark;
import org.lrdkt.validate.Evaluator.EvalResult;

/**
 * What one pipeline run measured. Evaluation fields are null when there was no test data; {@code finetune} and
 * {@code finetuned} are null when the run did not fine-tune.
 *
 * @param teacher   the original model on the test data
 * @param compressed the closed-form student on the test data, against the teacher
 * @param finetuned the fine-tuned student on the test data, against the teacher
 * @param bench     teacher (first) against the final student, alternating blocks of runs
 * @param output    the written student
 * @param report    the written report.html, or null
 */
public record PipelineResult(CompressReport compress, FinetuneResult finetune, EvalResult teacher,
                             EvalResult compressed, EvalResult finetuned, Benchmark.BenchResult bench, Path output,
                             Path report) {

    /**
     * One row per model: size, work and measured speed against the teacher, accuracy on the test data and each
     * output's fidelity to the teacher's. Both students share one graph, so they share the measured latency.
     */
    public String summary() {
        Benchmark.ModelBench t = bench.models().get(0);
        Benchmark.ModelBench s = bench.models().get(1);
        Benchmark.Ratio r = bench.ratios().get(0);
        TextTable table = new TextTable("model", "params", "params ×", "MACs/sample", "MACs ×",
                "P50 ms (batch " + bench.batch() + ")", "speedup ×", "top-1", "fidelity to teacher");
        table.row("teacher", TextTable.human(t.params()), "1.00", TextTable.human(t.macsPerSample()), "1.00",
                TextTable.milliseconds(t.latencyMs().p50()), "1.00", pct(teacher == null ? null : teacher.top1()), "");
        studentRow(table, compress.calibrated() ? "student, calibrated closed form" : "student, closed form", s, r,
                compressed);
        if (finetune != null) {
            studentRow(table, "student, fine-tuned", s, r, finetuned);
        }
        return table.render() + String.format("speedup: median latency ratio over alternating blocks, per-round "
                + "range %.2f–%.2f×, %d threads, %s%n", r.speedupRoundMin(), r.speedupRoundMax(), bench.threads(),
                bench.machine());
    }

    private static void studentRow(TextTable table, String name, Benchmark.ModelBench student, Benchmark.Ratio ratio,
                                   EvalResult eval) {
        table.row(name, TextTable.human(student.params()), times(ratio.params()),
                TextTable.human(student.macsPerSample()), times(ratio.macs()),
                TextTable.milliseconds(student.latencyMs().p50()),
                times(ratio.speedup()), pct(eval == null ? null : eval.top1()),
                eval == null || eval.fidelity() == null ? "—" : Fidelity.Figures.summary(eval.fidelity()));
    }

    private static String pct(Double fraction) {
        return fraction == null ? "—" : String.format("%.2f%%", 100 * fraction);
    }

    private static String times(double ratio) {
        return String.format("%.2f", ratio);
    }
}

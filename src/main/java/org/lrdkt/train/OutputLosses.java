package org.lrdkt.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.lrdkt.LrdktException;
import org.lrdkt.train.KtLoss.OutputLoss;

/**
 * {@code --output-loss}: which transfer loss each model output gets. One kind alone applies to every output not named;
 * a list of several is one per output, in the model's output order; {@code NAME=KIND} entries name an output.
 *
 * @param inOrder the unnamed entries, in order (one alone: the default of every output)
 * @param byName  the named entries
 */
public record OutputLosses(List<OutputLoss> inOrder, Map<String, OutputLoss> byName) {

    /** Every output's loss chosen by the output ({@link OutputLoss#AUTO}). */
    public static final OutputLosses AUTO = of(OutputLoss.AUTO);

    public OutputLosses {
        inOrder = List.copyOf(inOrder);
        byName = new LinkedHashMap<>(byName);
    }

    /** One kind for every output. */
    public static OutputLosses of(OutputLoss kind) {
        return new OutputLosses(List.of(kind), Map.of());
    }

    /** Parses {@code kind}, {@code kind,kind,...} or {@code name=kind,...} (mixed: names win over the default). */
    public static OutputLosses parse(String text) throws LrdktException {
        List<OutputLoss> inOrder = new ArrayList<>();
        Map<String, OutputLoss> byName = new LinkedHashMap<>();
        for (String entry : text.split(",", -1)) {
            String e = entry.trim();
            int eq = e.lastIndexOf('=');
            OutputLoss kind = kind(eq < 0 ? e : e.substring(eq + 1).trim());
            if (eq < 0) {
                inOrder.add(kind);
            } else if (byName.put(e.substring(0, eq).trim(), kind) != null) {
                throw LrdktException.usage("--output-loss names output '" + e.substring(0, eq).trim() + "' twice");
            }
        }
        return new OutputLosses(inOrder, byName);
    }

    private static OutputLoss kind(String word) throws LrdktException {
        try {
            return OutputLoss.valueOf(word.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw LrdktException.usage("--output-loss: unknown loss '" + word + "' (one of "
                    + Arrays.stream(OutputLoss.values()).map(k -> k.name().toLowerCase(Locale.ROOT)).toList() + ")");
        }
    }

    /**
     * The requested loss of each of {@code outputs} (AUTO where nothing is said); a name that is not an output or a
     * list whose length is not the number of outputs is a usage error.
     */
    Map<String, OutputLoss> forOutputs(List<String> outputs) throws LrdktException {
        for (String name : byName.keySet()) {
            if (!outputs.contains(name)) {
                throw LrdktException.usage("--output-loss names '" + name + "', which is not an output the student "
                        + "and teacher share " + outputs);
            }
        }
        if (inOrder.size() > 1 && inOrder.size() != outputs.size()) {
            throw LrdktException.usage("--output-loss lists " + inOrder.size() + " losses for " + outputs.size()
                    + " outputs " + outputs + "; give one per output, one for all, or NAME=KIND");
        }
        Map<String, OutputLoss> out = new LinkedHashMap<>();
        for (int i = 0; i < outputs.size(); i++) {
            String name = outputs.get(i);
            OutputLoss positional = inOrder.isEmpty() ? OutputLoss.AUTO : inOrder.get(inOrder.size() == 1 ? 0 : i);
            if (inOrder.size() > 1 && byName.containsKey(name)) {
                throw LrdktException.usage("--output-loss gives output '" + name + "' both by position and by name");
            }
            out.put(name, byName.getOrDefault(name, positional));
        }
        return out;
    }
}

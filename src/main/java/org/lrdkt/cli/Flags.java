package org.lrdkt.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.lrdkt.LrdktException;

/** Parsing helpers shared by commands: every bad value becomes a usage error naming the flag. */
final class Flags {

    private Flags() {
    }

    /** Exactly {@code count} positional arguments. */
    static List<String> positional(CommandLine line, int min, int max, String what) throws LrdktException {
        List<String> args = line.getArgList();
        if (args.size() < min) {
            throw LrdktException.usage("missing " + what);
        }
        if (args.size() > max) {
            throw LrdktException.usage("unexpected argument '" + args.get(max) + "'");
        }
        return args;
    }

    /** A long flag that takes one value, shown as {@code --name ARG} in the help. */
    static Option valued(String name, String arg, String description) {
        return Option.builder().longOpt(name).hasArg().argName(arg).desc(description).get();
    }

    /** A long flag without a value. */
    static Option toggle(String name, String description) {
        return Option.builder().longOpt(name).desc(description).get();
    }

    /** {@code -o/--output ARG}: where a command writes its result. */
    static Option output(String arg, String description) {
        return Option.builder("o").longOpt("output").hasArg().argName(arg).desc(description).get();
    }

    /** A flag naming one of an enum's constants, in any case; {@code fallback} when the flag is absent. */
    static <E extends Enum<E>> E enumValue(CommandLine line, String flag, E fallback) throws LrdktException {
        E[] constants = fallback.getDeclaringClass().getEnumConstants();
        String v = line.getOptionValue(flag);
        if (v == null) {
            return fallback;
        }
        for (E e : constants) {
            if (e.name().equalsIgnoreCase(v.trim())) {
                return e;
            }
        }
        throw notOneOf(flag, Arrays.stream(constants).map(e -> e.name().toLowerCase(Locale.ROOT)).toList(), v);
    }

    /**
     * A flag whose value is one of {@code words}, in any case (for flags with no enum of their own); the first word
     * when the flag is absent.
     */
    static String word(CommandLine line, String flag, String... words) throws LrdktException {
        String v = line.getOptionValue(flag, words[0]).trim().toLowerCase(Locale.ROOT);
        if (!Arrays.asList(words).contains(v)) {
            throw notOneOf(flag, Arrays.asList(words), line.getOptionValue(flag));
        }
        return v;
    }

    private static LrdktException notOneOf(String flag, List<String> choices, String given) {
        String allButLast = String.join(", ", choices.subList(0, choices.size() - 1));
        return LrdktException.usage("--" + flag + " expects " + allButLast + " or " + choices.get(choices.size() - 1)
                + ", got '" + given + "'");
    }

    static Path path(String value) {
        return Path.of(value);
    }

    static double doubleValue(CommandLine line, String flag, double fallback, double min, double max)
            throws LrdktException {
        String v = line.getOptionValue(flag);
        if (v == null) {
            return fallback;
        }
        try {
            double d = Double.parseDouble(v);
            if (!(d >= min && d <= max)) {
                throw LrdktException.usage("--" + flag + " " + v + " is out of range [" + min + ", " + max + "]");
            }
            return d;
        } catch (NumberFormatException e) {
            throw LrdktException.usage("--" + flag + " expects a number, got '" + v + "'");
        }
    }

    static int intValue(CommandLine line, String flag, int fallback, int min, int max) throws LrdktException {
        String v = line.getOptionValue(flag);
        if (v == null) {
            return fallback;
        }
        try {
            int i = Integer.parseInt(v.trim());
            if (i < min || i > max) {
                throw LrdktException.usage("--" + flag + " " + v + " is out of range [" + min + ", " + max + "]");
            }
            return i;
        } catch (NumberFormatException e) {
            throw LrdktException.usage("--" + flag + " expects an integer, got '" + v + "'");
        }
    }
}

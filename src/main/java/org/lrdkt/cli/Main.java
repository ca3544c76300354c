package org.lrdkt.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.commons.cli.help.HelpFormatter;
import org.apache.commons.cli.help.TextHelpAppendable;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.MappedFiles;

/**
 * Entry point: {@code lrdkt COMMAND [flags]}. Errors end in one line on stderr and exit code 2 (usage) or 1
 * (failure); {@code --verbose} adds the stack trace.
 */
public final class Main {

    private static final List<Command> COMMANDS = List.of(
            new InspectCommand(),
            new CompressCommand(),
            new EvalCommand(),
            new BenchCommand(),
            new FinetuneCommand(),
            new RunCommand());

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns the exit code; never calls System.exit (tests call this). */
    public static int run(String... args) {
        return run(COMMANDS, args);
    }

    /** Runs a command line over the given commands (tests add their own to reach states no flag can). */
    static int run(List<Command> commands, String... args) {
        Map<String, Command> byName = new LinkedHashMap<>();
        commands.forEach(c -> byName.put(c.name(), c));
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            System.out.println(overview(byName));
            return args.length == 0 ? 2 : 0;
        }
        Command command = byName.get(args[0]);
        if (command == null) {
            System.err.println("lrdkt: error: unknown command '" + args[0] + "'; commands: "
                    + String.join(", ", byName.keySet()));
            return 2;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        boolean verbose = Arrays.asList(rest).contains("--verbose");
        Options options = command.options();
        options.addOption(Flags.toggle("help", "show this help"));
        options.addOption(Flags.toggle("verbose", "show stack traces on errors"));
        try {
            CommandLine line = new DefaultParser().parse(options, rest);
            if (line.hasOption("help")) {
                System.out.println(help(command, options));
                return 0;
            }
            return command.run(line);
        } catch (ParseException e) {
            System.err.println("lrdkt " + command.name() + ": error: " + e.getMessage() + " (see lrdkt "
                    + command.name() + " --help)");
            return 2;
        } catch (LrdktException e) {
            return fail(command, e, verbose);
        } catch (InternalError e) {
            if (!MappedFiles.isReadFault(e)) {
                throw e;
            }
            return fail(command, MappedFiles.changedWhileRead(e), verbose);
        } catch (OutOfMemoryError e) {
            System.err.println("lrdkt " + command.name() + ": error: out of memory; raise the heap with "
                    + "LRDKT_JAVA_OPTS=-Xmx16g or use a smaller model/batch");
            return 1;
        } catch (RuntimeException e) {
            if (MappedFiles.isReadFault(e)) {
                return fail(command, MappedFiles.changedWhileRead(e), verbose);
            }
            System.err.println("lrdkt " + command.name() + ": internal error: "
                    + LrdktException.oneLine(String.valueOf(e))
                    + (verbose ? "" : " (run with --verbose for details)"));
            printTrace(verbose, e);
            return 1;
        }
    }

    private static int fail(Command command, LrdktException e, boolean verbose) {
        System.err.println("lrdkt " + command.name() + ": error: " + LrdktException.oneLine(e.getMessage()));
        printTrace(verbose, e);
        return e.kind().exitCode();
    }

    private static void printTrace(boolean verbose, Throwable e) {
        if (verbose) {
            e.printStackTrace(System.err);
        }
    }

    private static String overview(Map<String, Command> commands) {
        StringBuilder sb = new StringBuilder("usage: lrdkt COMMAND [flags]   (lrdkt COMMAND --help for its flags)\n\n"
                + "Low-rank decomposition with knowledge transfer for ONNX CNNs.\n\ncommands:\n");
        commands.values().forEach(c -> sb.append(String.format("  %-10s %s%n", c.name(), c.summary())));
        return sb.toString().stripTrailing();
    }

    private static String help(Command command, Options options) {
        StringBuilder out = new StringBuilder();
        TextHelpAppendable text = new TextHelpAppendable(out);
        text.setMaxWidth(110);
        HelpFormatter formatter = HelpFormatter.builder().setHelpAppendable(text).setShowSince(false).get();
        try {
            formatter.printHelp("lrdkt " + command.name() + " " + command.arguments(), command.summary(), options,
                    null, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringBuilder does not fail
        }
        // the table pads every cell to its column width; trailing blanks only make copied help text dirty
        return out.toString().lines().map(String::stripTrailing).collect(Collectors.joining("\n")).strip();
    }
}

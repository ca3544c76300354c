package org.lrdkt.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.lrdkt.LrdktException;

/** One subcommand: declares its flags, parses nothing itself, and calls one method of a stage or pipeline. */
interface Command {

    String name();

    /** One line for the command list. */
    String summary();

    /** Positional arguments as shown in the usage line, e.g. "MODEL". */
    String arguments();

    Options options();

    /** Runs the command; returns the exit code (0 on success). */
    int run(CommandLine line) throws LrdktException;
}

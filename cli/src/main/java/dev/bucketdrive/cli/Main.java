package dev.bucketdrive.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code bucketdrive} command. */
@Command(name = "bucketdrive", mixinStandardHelpOptions = true, version = "bucketdrive 0.1.0",
        description = "Mounts an S3 bucket as a drive.",
        subcommands = {MountCommand.class, UnmountCommand.class, StatusCommand.class, DemoCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof UserError) {
                commandLine.getErr().println("bucketdrive: " + e.getMessage());
                return 2;
            }
            commandLine.getErr().println("bucketdrive: unexpected failure: " + e);
            e.printStackTrace(commandLine.getErr());
            return 3;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Something the user can fix; printed as one line, exit status 2. */
    static final class UserError extends RuntimeException {
        UserError(String message) {
            super(message);
        }
    }
}

package dev.bucketdrive.cli;

import picocli.CommandLine.Command;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code bucketdrive status}: what each running mount reports (uploads, cache, conflicts, errors). */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Shows the running mounts.")
final class StatusCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        List<MountRegistry.Registered> mounts = MountRegistry.standard().running();
        if (mounts.isEmpty()) {
            System.out.println("No bucketdrive mount is running.");
            return 0;
        }
        for (MountRegistry.Registered m : mounts) {
            System.out.println("== " + m.mountPoint() + " (pid " + m.pid() + ")");
            System.out.print(m.status().orElse("starting …\n"));
        }
        return 0;
    }
}

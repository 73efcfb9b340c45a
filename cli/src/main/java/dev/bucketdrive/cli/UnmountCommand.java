package dev.bucketdrive.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** {@code bucketdrive unmount MOUNTPOINT}: asks the mount to stop and waits while it finishes uploads. */
@Command(name = "unmount", mixinStandardHelpOptions = true,
        description = "Unmounts a drive; the mount finishes its pending uploads before it exits.")
final class UnmountCommand implements Callable<Integer> {

    @Parameters(paramLabel = "MOUNTPOINT")
    Path mountPoint;

    @Override
    public Integer call() throws Exception {
        Optional<MountRegistry.Registered> mount = MountRegistry.standard().at(mountPoint);
        if (mount.isEmpty()) {
            if (!System.getProperty("os.name", "").startsWith("Windows")) {
                // Not one of ours (or its process is gone): let FUSE take it down.
                Process p = new ProcessBuilder("fusermount3", "-u", mountPoint.toString()).inheritIO().start();
                if (p.waitFor() == 0) {
                    return 0;
                }
            }
            throw new Main.UserError("no bucketdrive mount at " + mountPoint);
        }
        mount.get().requestStop();
        System.out.println("Asked the mount at " + mountPoint + " to stop; waiting for its uploads …");
        ProcessHandle process = ProcessHandle.of(mount.get().pid()).orElse(null);
        if (process != null) {
            process.onExit().get(7, TimeUnit.DAYS);
        }
        return 0;
    }
}

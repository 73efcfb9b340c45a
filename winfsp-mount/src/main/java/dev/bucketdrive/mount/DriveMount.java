package dev.bucketdrive.mount;

import dev.bucketdrive.core.vfs.Drive;
import org.cryptomator.jfuse.api.Fuse;
import org.cryptomator.jfuse.api.FuseBuilder;
import org.cryptomator.jfuse.api.FuseMountFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * A drive mounted through jfuse: libfuse3 on Linux, WinFsp's FUSE layer on Windows. {@link #close()}
 * unmounts. The mount options are chosen here; what the file system does is the {@link Drive}'s.
 */
public final class DriveMount implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DriveMount.class);
    /** Where Debian, Ubuntu, Fedora and Arch put libfuse3. */
    private static final List<String> LIBFUSE3 = List.of(
            "/lib/x86_64-linux-gnu/libfuse3.so.3", "/usr/lib/x86_64-linux-gnu/libfuse3.so.3",
            "/lib/aarch64-linux-gnu/libfuse3.so.3", "/usr/lib/aarch64-linux-gnu/libfuse3.so.3",
            "/usr/lib64/libfuse3.so.3", "/usr/lib/libfuse3.so.3", "/lib64/libfuse3.so.3");

    /**
     * How to mount.
     *
     * @param volumeName    the name Windows shows (the bucket)
     * @param networkDrive  Windows: show as a network drive (WinFsp VolumePrefix)
     * @param attrTimeout   seconds the kernel may keep attributes and names, and on Linux that a name
     *                      does not exist (a lookup that found nothing is not repeated within them)
     */
    public record Options(String volumeName, boolean networkDrive, double attrTimeout, boolean allowOther) {
        public static Options of(String volumeName) {
            return new Options(volumeName, false, 1.0, false);
        }
    }

    /** The mount could not be made; the message says why in one line. */
    public static final class MountException extends Exception {
        public MountException(String message) {
            super(message);
        }
    }

    private final Fuse fuse;
    private final Path mountPoint;
    private final BucketFileSystem fileSystem;

    private DriveMount(Fuse fuse, Path mountPoint, BucketFileSystem fileSystem) {
        this.fuse = fuse;
        this.mountPoint = mountPoint;
        this.fileSystem = fileSystem;
    }

    public static boolean isWindows() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
    }

    /** Mounts; returns once the file system answers at {@code mountPoint}. */
    public static DriveMount mount(Drive drive, Path mountPoint, Options options) throws MountException {
        boolean windows = isWindows();
        if (!windows) {
            checkLinuxMountPoint(mountPoint);
        }
        FuseBuilder builder;
        try {
            builder = Fuse.builder();
        } catch (UnsupportedOperationException e) {
            throw new MountException("this platform is not supported by jfuse: " + e.getMessage());
        }
        if (!windows) {
            builder.setLibraryPath(libfuse3(LIBFUSE3));
        }
        BucketFileSystem fs = new BucketFileSystem(drive, builder.errno(), windows);
        Fuse fuse;
        try {
            fuse = builder.build(fs);
        } catch (UnsatisfiedLinkError e) {
            throw new MountException((windows ? "WinFsp is not installed or cannot be loaded: "
                    : "libfuse3 cannot be loaded: ") + e.getMessage());
        }
        List<String> flags = windows ? windowsFlags(drive, options) : linuxFlags(options);
        LOG.debug("mount flags {}", flags);
        try {
            fuse.mount("bucketdrive", mountPoint, flags.toArray(String[]::new));
        } catch (FuseMountFailedException | IllegalArgumentException e) {
            closeQuietly(fuse);
            throw new MountException("cannot mount at " + mountPoint + ": " + e.getMessage());
        }
        LOG.info("mounted at {}", mountPoint);
        return new DriveMount(fuse, mountPoint, fs);
    }

    private static List<String> linuxFlags(Options o) {
        List<String> flags = new ArrayList<>();
        String timeout = Double.toString(o.attrTimeout());
        flags.add("-ofsname=bucketdrive:" + o.volumeName().replace(',', '_'));
        flags.add("-osubtype=bucketdrive");
        flags.add("-oattr_timeout=" + timeout);
        flags.add("-oentry_timeout=" + timeout);
        flags.add("-onegative_timeout=" + timeout);
        flags.add("-odefault_permissions");
        if (o.allowOther()) {
            flags.add("-oallow_other");
        }
        return flags;
    }

    private static List<String> windowsFlags(Drive drive, Options o) {
        List<String> flags = new ArrayList<>();
        flags.add("-ouid=-1,gid=-1");
        flags.add("-ovolname=" + o.volumeName().replace(',', '_'));
        flags.add("-oExactFileSystemName=NTFS");
        long ms = Math.round(o.attrTimeout() * 1000);
        flags.add("-oFileInfoTimeout=" + ms + ",DirInfoTimeout=" + ms);
        if (o.networkDrive()) {
            flags.add("-oVolumePrefix=/bucketdrive/" + o.volumeName().replaceAll("[^A-Za-z0-9._-]", "_"));
        }
        return flags;
    }

    private static void checkLinuxMountPoint(Path mountPoint) throws MountException {
        if (!Files.isDirectory(mountPoint)) {
            throw new MountException("the mount point " + mountPoint + " does not exist or is not a directory");
        }
        if (isMountPoint(mountPoint)) {
            throw new MountException("the mount point " + mountPoint + " is busy: something is mounted there");
        }
    }

    /** Linux: whether something is mounted at {@code dir} (from /proc/self/mountinfo). */
    static boolean isMountPoint(Path dir) {
        try {
            String real = dir.toAbsolutePath().normalize().toString();
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] fields = line.split(" ");
                if (fields.length > 4 && unescape(fields[4]).equals(real)) {
                    return true;
                }
            }
        } catch (IOException e) {
            LOG.debug("cannot read /proc/self/mountinfo: {}", e.toString());
        }
        return false;
    }

    /**
     * Whether the file system is still mounted: false once someone unmounted it (fusermount3 -u).
     * Windows offers no such check here; it answers true.
     */
    public boolean stillMounted() {
        return isWindows() || isMountPoint(mountPoint);
    }

    private static String unescape(String mountinfoPath) {
        return mountinfoPath.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    /** The first of {@code candidates} that exists, or the error a user without fuse3 sees. */
    static String libfuse3(List<String> candidates) throws MountException {
        for (String candidate : candidates) {
            if (Files.exists(Path.of(candidate))) {
                return candidate;
            }
        }
        throw new MountException("fuse3 is not installed (no libfuse3.so.3 found); install it, e.g. apt-get install fuse3");
    }

    public Path mountPoint() {
        return mountPoint;
    }

    /** Callbacks that failed with something other than a file-system error (bugs); 0 in a healthy mount. */
    public long unexpectedFailures() {
        return fileSystem.unexpectedFailures();
    }

    @Override
    public void close() {
        closeQuietly(fuse);
        LOG.info("unmounted {}", mountPoint);
    }

    private static void closeQuietly(Fuse fuse) {
        try {
            fuse.close();
        } catch (TimeoutException | RuntimeException e) {
            LOG.warn("unmount did not finish cleanly: {}", e.toString());
        }
    }
}

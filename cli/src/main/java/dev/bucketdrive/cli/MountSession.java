package dev.bucketdrive.cli;

import dev.bucketdrive.cache.CacheOptions;
import dev.bucketdrive.cache.LocalCache;
import dev.bucketdrive.core.attrs.PosixMetadata;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.vfs.Drive;
import dev.bucketdrive.core.vfs.DriveOptions;
import dev.bucketdrive.core.vfs.DriveStatus;
import dev.bucketdrive.mount.DriveMount;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One mount from start to stop: cache, drive, FUSE mount, then — on SIGINT/SIGTERM, {@code bucketdrive
 * unmount} or an unmount from outside — unmount, finish the uploads with a progress line (a second
 * interrupt leaves them in the journal for the next mount), and close.
 */
final class MountSession {

    private static final Logger LOG = LoggerFactory.getLogger(MountSession.class);

    record Settings(String bucket, String prefix, Path mountPoint, Path cacheDir, long cacheSize, boolean readOnly,
                    boolean networkDrive, int uid, int gid, int umask, Duration writeBackDelay,
                    Duration writeBackMaxDelay, Duration listingTtl) {
    }

    private MountSession() {
    }

    static int run(ObjectStore store, Settings s, PrintStream out) {
        CacheOptions cacheOptions = CacheOptions.defaults(s.cacheDir())
                .withLimits(s.cacheSize(), Math.max(CacheOptions.DEFAULT_CHUNK_SIZE, s.cacheSize() / 2));
        LocalCache cache;
        try {
            cache = LocalCache.open(cacheOptions, Executors.newVirtualThreadPerTaskExecutor());
        } catch (IllegalStateException e) {
            throw new Main.UserError(e.getMessage());
        } catch (RuntimeException e) {
            throw new Main.UserError("cannot use the cache directory " + s.cacheDir() + ": " + e.getMessage());
        }
        DriveOptions options = DriveOptions.standard()
                .withKeyPrefix(s.prefix())
                .withReadOnly(s.readOnly())
                .withDefaults(PosixMetadata.Defaults.withUmask(s.umask(), s.uid(), s.gid()))
                .withWriteBackDelay(s.writeBackDelay(), s.writeBackMaxDelay())
                .withListingTtl(s.listingTtl(), Duration.ofSeconds(2))
                .withHostName(hostName());
        if (DriveMount.isWindows()) {
            options = options.forWindows();
        }
        Drive drive = Drive.open(store, cache.chunks(), cache.journal(), cache.index(), cache.transactions(), options);
        DriveMount mount;
        try {
            mount = DriveMount.mount(drive, s.mountPoint(),
                    new DriveMount.Options(s.bucket(), s.networkDrive(), 1.0, false));
        } catch (DriveMount.MountException e) {
            drive.close();
            cache.close();
            throw new Main.UserError(e.getMessage());
        }
        MountRegistry registry = MountRegistry.standard();
        MountRegistry.Registered me = registry.register(s.mountPoint(), s.bucket(), s.cacheDir());
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("status").factory());
        ticker.scheduleWithFixedDelay(() -> registry.writeStatus(me, describe(drive.status(), s)), 0, 1,
                TimeUnit.SECONDS);

        CountDownLatch stop = new CountDownLatch(1);
        AtomicInteger interrupts = new AtomicInteger();
        Signal.handle(new Signal("INT"), sig -> {
            interrupts.incrementAndGet();
            stop.countDown();
        });
        Signal.handle(new Signal("TERM"), sig -> {
            interrupts.incrementAndGet();
            stop.countDown();
        });
        out.println("Mounted s3://" + s.bucket() + "/" + s.prefix() + " at " + s.mountPoint()
                + " (Ctrl-C or `bucketdrive unmount " + s.mountPoint() + "` to stop)");
        try {
            while (!stop.await(500, TimeUnit.MILLISECONDS)) {
                if (registry.stopRequested(me) || !mount.stillMounted()) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int seenInterrupts = interrupts.get();
        out.println("Unmounting " + s.mountPoint() + " …");
        mount.close();
        int left;
        try {
            left = drive.drain(Duration.ofDays(365), new Progress(out, () -> interrupts.get() > seenInterrupts));
        } catch (Interrupted e) {
            out.println();
            DriveStatus st = drive.status();
            left = st.pendingUploads() + st.pendingSteps();
        }
        ticker.shutdownNow();
        drive.close();
        cache.close();
        store.close();
        registry.unregister(me);
        if (left > 0) {
            out.println(left + " operations were not finished; they stay in the journal and resume at the next mount.");
        } else {
            out.println("All changes are in the bucket.");
        }
        return 0;
    }

    /** Prints the pending count as it falls; says "stop" to the drain after a further interrupt. */
    private static final class Progress implements java.util.function.IntConsumer {
        private final PrintStream out;
        private final java.util.function.BooleanSupplier abort;
        private int first = -1;
        private int last = -1;

        Progress(PrintStream out, java.util.function.BooleanSupplier abort) {
            this.out = out;
            this.abort = abort;
        }

        @Override
        public void accept(int left) {
            if (abort.getAsBoolean()) {
                throw new Interrupted();
            }
            if (left == last) {
                return;
            }
            if (first < 0) {
                first = Math.max(left, 1);
            }
            last = left;
            int width = 30;
            int done = (int) Math.round(width * (first - left) / (double) first);
            out.print("\r[" + "#".repeat(done) + ".".repeat(width - done) + "] " + left + " uploads left"
                    + (left == 0 ? "\n" : ""));
            out.flush();
        }
    }

    /** Thrown out of the drain's progress callback to stop waiting. */
    static final class Interrupted extends RuntimeException {
        Interrupted() {
            super("interrupted", null, false, false);
        }
    }

    static String describe(DriveStatus st, Settings s) {
        StringBuilder b = new StringBuilder();
        b.append("bucket: s3://").append(s.bucket()).append('/').append(s.prefix()).append('\n');
        b.append("mount point: ").append(s.mountPoint()).append('\n');
        b.append("pending uploads: ").append(st.pendingUploads()).append('\n');
        b.append("pending deletes and copies: ").append(st.pendingSteps()).append('\n');
        b.append("failing (will retry): ").append(st.failing()).append('\n');
        b.append("cache: ").append(st.cacheBytes() >> 20).append(" MiB used, ")
                .append(st.dirtyBytes() >> 20).append(" MiB not yet uploaded\n");
        b.append("conflicts: ").append(st.conflicts().size()).append('\n');
        st.conflicts().forEach(c -> b.append("  ").append(c).append('\n'));
        b.append("recent errors: ").append(st.recentErrors().size()).append('\n');
        st.recentErrors().forEach(e -> b.append("  ").append(e).append('\n'));
        return b.toString();
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? "unknown-host" : env;
        }
    }
}

package dev.bucketdrive.it;

import dev.bucketdrive.cache.CacheOptions;
import dev.bucketdrive.cache.LocalCache;
import dev.bucketdrive.core.local.ChunkStore;
import dev.bucketdrive.core.local.LocalTransactions;
import dev.bucketdrive.core.local.MetadataIndex;
import dev.bucketdrive.core.local.UploadJournal;
import dev.bucketdrive.core.store.InstrumentedObjectStore;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.vfs.Drive;
import dev.bucketdrive.core.vfs.DriveOptions;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A drive over a real cache directory and a given store, driven without a mount, with helpers that
 * do what a program does through the file system (open, write, close).
 */
final class DriveHarness implements AutoCloseable {

    static final int CHUNK = 64 * 1024;

    final InstrumentedObjectStore store;
    private final Path cacheDir;
    private final UnaryOperator<DriveOptions> tune;
    private final UnaryOperator<CacheOptions> cacheTune;
    private final int chunkSize;
    LocalCache cache;
    Drive drive;
    /** When set before {@link #open}: the calls the drive makes of its chunk store and journal, by method name. */
    java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicLong> portCalls;
    /** Thrown at the end of the next transaction's changes, which then roll back as after a failed commit. */
    final java.util.concurrent.atomic.AtomicReference<RuntimeException> commitFault =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** The name of a method of the index whose next call fails (as a failed commit would), or null. */
    final java.util.concurrent.atomic.AtomicReference<String> indexFault =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** Runs before each call of the chunk store with the method's name (a slow disk, say), or null. */
    final java.util.concurrent.atomic.AtomicReference<java.util.function.Consumer<String>> chunkHook =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** The name of a method of the journal whose next call fails (as a failed commit would), or null. */
    final java.util.concurrent.atomic.AtomicReference<String> journalFault =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** The name of a method of the chunk store whose next call fails (as a failed commit would), or null. */
    final java.util.concurrent.atomic.AtomicReference<String> chunkFault =
            new java.util.concurrent.atomic.AtomicReference<>();

    DriveHarness(ObjectStore bucket, Path cacheDir) {
        this(bucket, cacheDir, CHUNK, o -> o);
    }

    DriveHarness(ObjectStore bucket, Path cacheDir, int chunkSize, UnaryOperator<DriveOptions> tune) {
        this(bucket, cacheDir, chunkSize, tune, c -> c);
    }

    DriveHarness(ObjectStore bucket, Path cacheDir, int chunkSize, UnaryOperator<DriveOptions> tune,
                 UnaryOperator<CacheOptions> cacheTune) {
        this.cacheTune = cacheTune;
        this.store = bucket instanceof InstrumentedObjectStore i ? i : new InstrumentedObjectStore(bucket);
        this.cacheDir = cacheDir;
        this.tune = tune;
        this.chunkSize = chunkSize;
        open();
    }

    /** Deletes {@code dir} and everything under it. */
    static void deleteTree(Path dir) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(p);
            }
        }
    }

    void open() {
        cache = LocalCache.open(cacheTune.apply(CacheOptions.defaults(cacheDir).withChunkSize(chunkSize)
                .withLimits(1L << 30, 512L << 20)), Runnable::run);
        ChunkStore chunks = intercepted(ChunkStore.class, failingWhenTold(ChunkStore.class, cache.chunks(), chunkFault),
                method -> {
                    var hook = chunkHook.get();
                    if (hook != null) {
                        hook.accept(method);
                    }
                });
        drive = Drive.open(store, counted(ChunkStore.class, chunks),
                counted(UploadJournal.class, failingWhenTold(UploadJournal.class, cache.journal(), journalFault)),
                failingWhenTold(MetadataIndex.class, cache.index(), indexFault), failingWhenTold(cache.transactions()),
                tune.apply(DriveOptions.standard().withWriteBackDelay(Duration.ZERO)
                        .withListingTtl(Duration.ofMinutes(10), Duration.ofMinutes(10)).withHostName("testhost")));
    }

    private LocalTransactions failingWhenTold(LocalTransactions transactions) {
        return new LocalTransactions() {
            @Override
            public <T> T inOne(java.util.function.Supplier<T> changes) {
                return transactions.inOne(() -> {
                    T result = changes.get();
                    RuntimeException fault = commitFault.getAndSet(null);
                    if (fault != null) {
                        throw fault;
                    }
                    return result;
                });
            }
        };
    }

    /** {@code target}, whose method named in {@code fault} fails once, as a failed commit would. */
    private static <T> T failingWhenTold(Class<T> port, T target,
                                         java.util.concurrent.atomic.AtomicReference<String> fault) {
        return intercepted(port, target, method -> {
            String failing = fault.get();
            if (method.equals(failing) && fault.compareAndSet(failing, null)) {
                throw new IllegalStateException("cache index: injected failure of " + method);
            }
        });
    }

    private <T> T counted(Class<T> port, T target) {
        if (portCalls == null) {
            return target;
        }
        return intercepted(port, target, method -> portCalls
                .computeIfAbsent(method, k -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet());
    }

    /** {@code target} behind {@code port}, with {@code beforeCall} given each method's name first. */
    private static <T> T intercepted(Class<T> port, T target, java.util.function.Consumer<String> beforeCall) {
        return port.cast(java.lang.reflect.Proxy.newProxyInstance(port.getClassLoader(), new Class<?>[] {port},
                (proxy, method, args) -> {
                    beforeCall.accept(method.getName());
                    try {
                        return method.invoke(target, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                }));
    }

    long portCalls(String method) {
        var n = portCalls.get(method);
        return n == null ? 0 : n.get();
    }

    /** Stops the drive as a crash would leave it: nothing drained, the cache closed. */
    void stop() {
        drive.close();
        cache.close();
    }

    void restart() {
        stop();
        open();
    }

    void write(String path, byte[] content) {
        long fh = drive.create(path, 0644, Set.of(StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING));
        drive.write(fh, ByteBuffer.wrap(content), 0);
        drive.flush(fh);
        drive.release(fh);
    }

    void writeAt(String path, long offset, byte[] content) {
        long fh = drive.open(path, Set.of(StandardOpenOption.WRITE));
        drive.write(fh, ByteBuffer.wrap(content), offset);
        drive.flush(fh);
        drive.release(fh);
    }

    byte[] read(String path) {
        long fh = drive.open(path, Set.of(StandardOpenOption.READ));
        try {
            return readAll(fh);
        } finally {
            drive.release(fh);
        }
    }

    byte[] read(String path, long offset, int length) {
        long fh = drive.open(path, Set.of(StandardOpenOption.READ));
        try {
            ByteBuffer buf = ByteBuffer.allocate(length);
            drive.read(fh, buf, offset);
            return Arrays.copyOf(buf.array(), buf.position());
        } finally {
            drive.release(fh);
        }
    }

    byte[] readAll(long fh) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(100_000);
        long offset = 0;
        while (true) {
            buf.clear();
            int n = drive.read(fh, buf, offset);
            if (n <= 0) {
                return out.toByteArray();
            }
            out.write(buf.array(), 0, n);
            offset += n;
        }
    }

    /** The store operations made since the counters were reset, with their counts. */
    java.util.Map<InstrumentedObjectStore.Op, Long> calls() {
        java.util.Map<InstrumentedObjectStore.Op, Long> out = new java.util.EnumMap<>(InstrumentedObjectStore.Op.class);
        for (InstrumentedObjectStore.Op op : InstrumentedObjectStore.Op.values()) {
            if (store.calls(op) > 0) {
                out.put(op, store.calls(op));
            }
        }
        return out;
    }

    boolean exists(String path) {
        try {
            drive.getattr(path);
            return true;
        } catch (dev.bucketdrive.core.vfs.FsException e) {
            return false;
        }
    }

    void drain() {
        int left = drive.drain(Duration.ofSeconds(30), n -> { });
        if (left != 0) {
            throw new AssertionError(left + " operations still pending: " + drive.status());
        }
    }

    @Override
    public void close() {
        stop();
    }
}

package dev.bucketdrive.bench;

import dev.bucketdrive.cache.CacheOptions;
import dev.bucketdrive.cache.LocalCache;
import dev.bucketdrive.core.local.ChunkKey;
import dev.bucketdrive.core.local.Entry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cache on this machine's disk: chunk writes and reads (4 MiB chunks, so ops/s × 4 = MiB/s),
 * index lookups, dirty marks (the transaction that the first write to a chunk costs), and what the
 * cache does for one small file from its creation to its close.
 * Run: {@code java -jar benchmarks/target/benchmarks.jar}; the figures are in docs/ARCHITECTURE.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ChunkStoreBenchmark {

    private static final int CHUNK = 4 * 1024 * 1024;
    private static final int CACHED = 64;

    private Path dir;
    private LocalCache cache;
    private ByteBuffer chunk;
    private ByteBuffer readBuffer;
    private long nextFile = 1_000_000;
    private int readCursor;
    private int lookupCursor;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory(Path.of(System.getProperty("bench.dir", System.getProperty("java.io.tmpdir"))),
                "bd-bench");
        cache = LocalCache.open(CacheOptions.defaults(dir).withLimits(64L << 30, 64L << 30).withMinFreeBytes(0),
                Runnable::run);
        byte[] data = new byte[CHUNK];
        new Random(1).nextBytes(data);
        chunk = ByteBuffer.wrap(data);
        readBuffer = ByteBuffer.allocate(CHUNK);
        for (int i = 0; i < CACHED; i++) {
            cache.chunks().putClean(new ChunkKey(1, i), "e", chunk.duplicate());
        }
        for (int i = 0; i < 10_000; i++) {
            cache.index().upsert(new Entry(0, "dir" + (i % 100) + "/file" + i, Entry.Type.FILE, i, 0, 0100644, 0, 0,
                    "\"e\"", 0));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        cache.close();
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** A whole 4 MiB chunk written dirty into a new file: one durable index transaction plus the bytes. */
    @Benchmark
    public void writeChunk() {
        long file = nextFile++;
        cache.chunks().write(new ChunkKey(file, 0), 0, chunk.duplicate());
        cache.chunks().drop(file);
    }

    /** A whole cached 4 MiB chunk read back (integrity already verified once, as in steady use). */
    @Benchmark
    public int readChunk() {
        readBuffer.clear();
        return cache.chunks().read(new ChunkKey(1, (readCursor++ & 0x3fffffff) % CACHED), "e", 0, readBuffer);
    }

    /** A 4 KiB read from a cached chunk: the random-read path. */
    @Benchmark
    public int read4k() {
        ByteBuffer small = readBuffer.clear().limit(4096);
        int n = readCursor++ & 0x3fffffff;
        return cache.chunks().read(new ChunkKey(1, n % CACHED), "e", (n % (CHUNK / 4096)) * 4096, small);
    }

    /** A path looked up in the metadata index (10,000 entries). */
    @Benchmark
    public Object indexLookup() {
        int i = (lookupCursor++ & 0x3fffffff) % 10_000;
        return cache.index().lookup("dir" + (i % 100) + "/file" + i);
    }

    /**
     * What one untarred 15 KiB file costs the cache, as the drive does it: its entry and its held
     * upload (one transaction), two writes (tar writes what its 10 KiB records hold), then the close
     * (entry stored and upload scheduled in one transaction, one WAL fsync).
     */
    @Benchmark
    public void smallFileClose() {
        String path = "untar/f" + nextFile++;
        Instant later = Instant.now().plusSeconds(3600);
        Entry e = cache.transactions().inOne(() -> {
            Entry made = cache.index().upsert(new Entry(0, path, Entry.Type.FILE, 0, 0, 0100644, 0, 0, null, 0));
            cache.journal().holdUpload(made.id(), path, null, later);
            return made;
        });
        cache.chunks().write(new ChunkKey(e.id(), 0), 0, chunk.slice(0, 10240));
        cache.chunks().write(new ChunkKey(e.id(), 0), 10240, chunk.slice(10240, 5120));
        cache.chunks().force(e.id());
        cache.transactions().inOne(() -> {
            cache.index().upsert(new Entry(e.id(), path, Entry.Type.FILE, 15360, 1, 0100644, 0, 0, null, 0));
            return cache.journal().scheduleUpload(e.id(), path, null, later);
        });
    }

    /** The first small write to a new chunk: what marking a chunk dirty costs. */
    @Benchmark
    public void dirtyMark() {
        long file = nextFile++;
        cache.chunks().write(new ChunkKey(file, 0), 0, ByteBuffer.wrap(new byte[] {1}));
    }
}

package dev.bucketdrive.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.bucketdrive.core.local.CacheFullException;
import dev.bucketdrive.core.local.ChunkKey;
import dev.bucketdrive.core.local.ChunkStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ChunkStore} on local disk: one row per chunk in the SQLite index, which is the truth about
 * what is present and dirty. Small chunks (up to {@link #inlineMax} bytes: the chunks of small files)
 * keep their bytes in the row itself, so a small file costs no file of its own, and its close one
 * sync of the index instead of a file creation and a sync more; bigger chunks are one file each under
 * {@code chunks/}. A write to the end of a small dirty chunk (how programs write files, a piece at a
 * time) goes to the {@link AppendLog} ({@code appends.log}) and memory instead of a statement; the
 * row takes the chunk's appends in one statement when anything else is done with the chunk, at the
 * latest at the file's {@link #force} (a close or fsync) or when this store closes, and records the
 * number of the last one it took ({@code log_seq}). At start, appends a crash left in the log go into
 * rows that are still dirty and did not take them; the log starts again whenever nothing is pending.
 * A small chunk that grows past the limit moves to a file (file written first, then the row
 * cleared: a crash leaves a stray file that start-up removes). Caffeine holds the rows of
 * hot chunks so a read of a file-backed chunk costs no SQL.
 *
 * <p>Crash safety. A chunk becomes dirty in the index (a committed transaction) <em>before</em> its
 * file is first written, so a crash of the process can leave a dirty row over unchanged bytes
 * (harmless: it uploads what was there) but never changed bytes under a clean row. A power cut can
 * lose rows committed since the last {@link #force}: changed bytes under a clean row then fail the
 * checksum and read as a miss (the unsynced write is lost, as POSIX allows; nothing torn is served).
 * A close or fsync syncs the files ({@link #force}) and then the index (with its journal entry), so
 * what it made durable stays. A clean chunk
 * is written to a temporary file, then moved into place, then indexed: a crash leaves an orphan file
 * that start-up removes, never a row without its bytes. Clean chunks carry a CRC32C checked on their
 * first read in this process; a mismatch drops the chunk and reads as a miss.
 *
 * <p>Lock order: a chunk's stripe lock, then Caffeine's lock of the row's key in {@code rows} (a row
 * is loaded inside it), then the map's lock of the file in {@code fileChunks} (its indexes are
 * loaded inside it), then the {@link Database} lock. So nothing here touches {@code rows} or
 * {@code fileChunks} while it holds the database lock, and no caller may hold it (an outer
 * transaction) while it calls in. The dirty-space monitor ({@code dirtyLock}) is never held while
 * taking any of them.
 */
final class SqliteChunkStore implements ChunkStore {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteChunkStore.class);
    private static final int STRIPES = 64;
    /** How many chunk files stay open for reading (see {@link #readChannelsFor}). */
    static final int READ_CHANNELS = readChannelsFor(maxOpenFiles());

    /** The index row of a chunk, plus what this process learnt about it. */
    private static final class Chunk {
        final boolean dirty;
        final String etag;
        volatile int length;
        final long crc;
        /** The bytes are in the row, not in a file. */
        final boolean inline;
        volatile boolean verified;
        volatile long generation;
        /** The CRC-32C of a dirty small chunk's bytes as a read found them, or null. */
        volatile CrcOf crcOf;

        Chunk(boolean dirty, String etag, int length, long crc, boolean inline) {
            this.dirty = dirty;
            this.etag = etag;
            this.length = length;
            this.crc = crc;
            this.inline = inline;
        }
    }

    private static final Optional<Chunk> ABSENT = Optional.empty();

    /**
     * The CRC-32C of a dirty chunk's bytes at {@code generation}: an upload reads a small file's
     * bytes, and the chunk turning clean then needs their CRC without reading them from the index a
     * second time. A read takes the generation before and after the bytes, and a write raises it
     * after it changed them, so a CRC kept for a generation is that generation's; one taken while a
     * write was under way carries a generation the chunk has left.
     */
    private record CrcOf(long generation, long crc) {
    }

    private final Database db;
    private final CacheOptions options;
    private final Path chunkDir;
    /**
     * The file system of {@link #chunkDir}, looked up at the first need: {@link Files#getFileStore}
     * reads the mount table each time (about 0.1 ms, at every chunk a read brings in), while the
     * free space of a store found once is one statvfs.
     */
    private volatile FileStore chunkDisk;
    /** Reads the free bytes of the chunks' disk (a statvfs); tests give one of their own. */
    private volatile LongSupplier freeDiskReading = this::readFreeDisk;
    /**
     * The free bytes of the last reading less what writes asked for since, and until when (the
     * options' clock, ms) that estimate stands in for a new reading: {@link #diskHasRoom} runs
     * before every write, and a statvfs at each of an untar's 8,650 writes was 1.4 % of the mount's
     * CPU. The estimate counts every write in full, a rewrite in place too, so it errs low.
     */
    private final AtomicLong freeDiskEstimate = new AtomicLong();
    private volatile long freeDiskEstimateUntil = Long.MIN_VALUE;
    /** How long a reading of the free space stands, while it leaves twice the writers' reserve. */
    private static final long FREE_DISK_READING_MS = 100;
    /** Chunks up to this many bytes live in their row. */
    private final int inlineMax;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    private final Cache<ChunkKey, Optional<Chunk>> rows;
    /**
     * Open read channels of recently read chunk files, so that a run of small reads (4 KiB random
     * reads through the kernel) costs a pread each rather than an open, a pread and a close. A file
     * replaced or deleted loses its channel first ({@link #deleteFile}, {@link #putClean}); a write
     * in place is seen through it (same inode). Every read looks its channel up here, so that the
     * cache sees how often each is used: when it holds files read once (a copy of a tree), the
     * chunks read over and over (random reads in a big file) push them out, not one another.
     */
    private final Cache<ChunkKey, FileChannel> readChannels;
    private final LongAdder filesOpenedToRead = new LongAdder();
    /*
     * The loaders of the two caches, made once: a lambda that captures (here, this) is an allocation
     * through a method handle on every call under the quick compiler the launcher runs (about 30 ns),
     * and both run on every read.
     */
    private final Function<ChunkKey, Optional<Chunk>> loadRow = this::loadRow;
    private final Function<ChunkKey, FileChannel> openForReading = k -> {
        try {
            return openToRead(k);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    };
    /** {@code chunks/00} … {@code chunks/ff}: a file's chunks live under the low byte of its id. */
    private final Path[] chunkDirs = new Path[256];
    private final Map<ChunkKey, Long> touched = new ConcurrentHashMap<>();
    /**
     * Files the index has just made ({@link #noRowsYet}): the first row looked up for one is absent
     * without a query. The first write of each new file looked up its chunk 0 in the index (3,512
     * queries in an untar). Any lookup takes the file off, so the rows written after it are found as
     * usual; a file that falls off (the set is bounded) is looked up as usual. No loader: a put here
     * never waits, so it may run under the database lock.
     */
    private final Cache<Long, Boolean> newFiles = Caffeine.newBuilder().maximumSize(1024).executor(Runnable::run).build();
    /**
     * The indexes of each file's chunk rows, as the table has them: an upload asked the table for
     * them three times (its dirty chunks before and after reading them, then every chunk as they
     * turned clean; a tenth of the mount's CPU in an untar's uploads). Loaded from the table at first
     * need, or known empty at the first row looked up of a file the index just made. A row stored,
     * turned clean or deleted changes its file's indexes after the statement committed, through the
     * map's {@code computeIfPresent}: a load under way for the file (inside {@code computeIfAbsent})
     * finishes first, and one that read the table before the commit is corrected. (Caffeine's
     * {@code computeIfPresent} does not wait for a load under way: it returned at once and the load
     * then missed the row for good, which {@code ConcurrencyTest} caught.) In between a caller may miss
     * the row, as it would miss a write that came a moment later (the generations an upload compares
     * catch both). An index without a row is harmless: every caller looks the row up. Past
     * {@link #FILES_KEPT} files it forgets them all; each is read from the table again at its next use.
     */
    private final ConcurrentHashMap<Long, FileChunks> fileChunks = new ConcurrentHashMap<>();
    private static final int FILES_KEPT = 8192;
    private final Function<Long, FileChunks> loadFileChunks = this::loadFileChunks;

    /** A file's chunk indexes: every row's, and the dirty rows'. */
    private static final class FileChunks {
        final Set<Integer> all = new ConcurrentSkipListSet<>();
        final Set<Integer> dirty = new ConcurrentSkipListSet<>();
    }
    private final AtomicLong totalBytes = new AtomicLong();
    private final AtomicLong dirtyBytes = new AtomicLong();
    /**
     * Dirty chunks whose bytes went out as parts of an upload still open, with the bytes taken off
     * {@link #dirtyBytes} for them. Under a chunk's stripe lock it counts again ({@link #countAgain})
     * before anything changes the chunk's dirty bytes.
     */
    private final Map<ChunkKey, Integer> sentAsParts = new ConcurrentHashMap<>();
    private final AtomicLong chunkCount = new AtomicLong();
    private final AtomicLong dirtyCount = new AtomicLong();
    private final ReentrantLock dirtyLock = new ReentrantLock();
    private final Condition dirtyDrained = dirtyLock.newCondition();
    /** See {@link #roomMadeBy}. */
    private volatile BooleanSupplier somethingUnderway = () -> true;
    private final AtomicLong generations = new AtomicLong();
    /** Numbers the temporary files of {@link StreamedChunk}s, so that two for one chunk never share one. */
    private final AtomicLong streamedFiles = new AtomicLong();
    /**
     * The chunk files of each file written since their last fsync: what {@link #force} syncs, so the
     * close of a small file (no chunk file) asks the index nothing. Each write adds its chunk once its
     * bytes are in the file; a set is changed only inside {@code compute} and taken whole by force.
     * At start every dirty chunk in a file is here: the last process may not have synced it.
     */
    private final Map<Long, Set<Integer>> unsynced = new ConcurrentHashMap<>();
    /**
     * Syncs chunk files written to their end while the file is still being written, so a close
     * finds little left to sync ({@link #syncSoon}).
     */
    private final Executor syncer;
    /** Chunks handed to {@link #syncer} and not yet taken up by it. */
    private final Set<ChunkKey> syncQueued = ConcurrentHashMap.newKeySet();
    /** Appends to small dirty chunks not yet in their rows (see the class comment). */
    private final AppendLog appendLog;
    /** The appends {@link #appendLog} holds for a chunk and its row does not yet; changed under the chunk's stripe lock. */
    private final Map<ChunkKey, PendingAppends> pending = new ConcurrentHashMap<>();
    /** The bytes {@link #pending} holds, at most {@link #PENDING_MAX}. */
    private final AtomicLong pendingBytes = new AtomicLong();
    /**
     * The last sequence number given to an append; above every row's {@code log_seq}: this process's
     * numbers are its start's count (in {@code settings}) times 2^{@link #SEQUENCE_BITS} plus one each.
     */
    private final AtomicLong appendSequence = new AtomicLong();
    private static final int SEQUENCE_BITS = 40;
    /** What memory may hold of appends not in their rows; past it appends go to the index directly. */
    private static final long PENDING_MAX = 8L << 20;
    /** A log this long takes no more appends until it can start again (when nothing is pending). */
    private static final long LOG_MAX = 64L << 20;

    /**
     * Appends to the end of a small dirty chunk since its row last took them: its bytes are the row's
     * ({@code rowLength} of them) followed by {@code tail}. Guarded by the chunk's stripe lock.
     */
    private static final class PendingAppends {
        final int rowLength;
        byte[] tail = new byte[0];
        int tailLength;
        /** The sequence number of the last append: the row's {@code log_seq} once it took them. */
        long lastSequence;

        PendingAppends(int rowLength) {
            this.rowLength = rowLength;
        }

        void add(ByteBuffer data, long sequence) {
            int n = data.remaining();
            if (tailLength + n > tail.length) {
                tail = Arrays.copyOf(tail, Math.max(tailLength + n, tail.length * 2));
            }
            data.duplicate().get(tail, tailLength, n);
            tailLength += n;
            lastSequence = sequence;
        }

        byte[] tailBytes() {
            return Arrays.copyOf(tail, tailLength);
        }
    }

    /**
     * The clean chunks' count and bytes, read at start. The index {@code chunks_by_access} holds
     * {@code length} so that this reads the index alone; through the table it read every small
     * chunk's bytes (30,000 of them, not in the page cache: 1.7 s by the table, 21 ms by the index).
     */
    static final String CLEAN_USAGE = "SELECT count(*), coalesce(sum(length), 0) FROM chunks WHERE dirty = 0";

    SqliteChunkStore(Database db, CacheOptions options, Path chunkDir, Executor syncer) {
        this.db = db;
        this.options = options;
        this.chunkDir = chunkDir;
        this.syncer = syncer;
        this.inlineMax = Math.min(options.chunkSize() / 2, 64 * 1024);
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
        this.rows = Caffeine.newBuilder().maximumSize(200_000).executor(Runnable::run).build(); // upkeep in the caller
        this.readChannels = Caffeine.newBuilder().maximumSize(READ_CHANNELS).executor(Runnable::run)
                .<ChunkKey, FileChannel>removalListener((key, channel, cause) -> closeQuietly(channel)).build();
        for (int i = 0; i < chunkDirs.length; i++) {
            chunkDirs[i] = chunkDir.resolve(String.format("%02x", i));
        }
        try {
            this.appendLog = new AppendLog(chunkDir.resolveSibling("appends.log"), inlineMax);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the cache's append log", e);
        }
        try {
            replayAppends();
        } catch (IOException | RuntimeException e) {
            closeQuietly(appendLog);
            throw e instanceof IOException io ? new UncheckedIOException("cannot replay the cache's append log", io)
                    : (RuntimeException) e;
        }
        db.read(c -> {
            try (var s = c.createStatement();
                 var rs = s.executeQuery(CLEAN_USAGE)) {
                chunkCount.addAndGet(rs.getLong(1));
                totalBytes.addAndGet(rs.getLong(2));
            }
            return null;
        });
        List<ChunkKey> dirty = db.query("SELECT file_id, idx FROM chunks WHERE dirty = 1", SqliteChunkStore::chunkKey);
        for (ChunkKey key : dirty) {
            Optional<Chunk> chunk = row(key);
            long length = chunk.map(ch -> ch.length).orElse(0);
            if (chunk.isPresent() && !chunk.get().inline) {
                unsynced(key);
            }
            chunkCount.incrementAndGet();
            dirtyCount.incrementAndGet();
            totalBytes.addAndGet(length);
            dirtyBytes.addAndGet(length);
        }
    }

    @Override
    public int chunkSize() {
        return options.chunkSize();
    }

    private ReentrantLock stripe(ChunkKey key) {
        return stripes[stripeIndex(key)];
    }

    private static int stripeIndex(ChunkKey key) {
        return Math.floorMod(Long.hashCode(key.fileId() * 31 + key.index()), STRIPES);
    }

    Path path(ChunkKey key) {
        return chunkDirs[(int) (key.fileId() & 0xff)].resolve(key.fileId() + "-" + key.index());
    }

    private Optional<Chunk> row(ChunkKey key) {
        return rows.get(key, loadRow);
    }

    /**
     * A file the index made a moment ago has no chunk rows: its id is new (an AUTOINCREMENT key, never
     * handed out twice, or again only after the transaction that drew it rolled back).
     */
    void noRowsYet(long fileId) {
        newFiles.put(fileId, Boolean.TRUE);
    }

    private Optional<Chunk> loadRow(ChunkKey k) {
        if (newFiles.asMap().remove(k.fileId()) != null) {
            keepRoomForFileChunks();
            fileChunks.putIfAbsent(k.fileId(), new FileChunks()); // no row yet: the first is looked up now
            return ABSENT;
        }
        return db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT dirty, etag, length, crc, data IS NOT NULL, "
                    + "coalesce(length(data), 0) FROM chunks WHERE file_id = ? AND idx = ?")) {
                ps.setLong(1, k.fileId());
                ps.setInt(2, k.index());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return ABSENT;
                    }
                    boolean dirty = rs.getInt(1) == 1;
                    boolean inline = rs.getInt(5) == 1;
                    // A dirty file chunk's length lives in its file: growing writes do not touch the index;
                    // a small one's appends not yet in its row are in memory (a row dropped from rows
                    // and loaded again while the file is written).
                    PendingAppends p = pending.get(k);
                    int length = inline ? (p != null ? p.rowLength + p.tailLength : rs.getInt(6))
                            : dirty ? dirtyLength(k) : rs.getInt(3);
                    return Optional.of(new Chunk(dirty, rs.getString(2), length, rs.getLong(4), inline));
                }
            }
        });
    }

    private int dirtyLength(ChunkKey key) {
        try {
            return (int) Files.size(path(key));
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chunk " + key, e);
        }
    }

    private void touch(ChunkKey key) {
        long now = options.clock().millis();
        Long last = touched.get(key);
        if (last == null || last != now) { // a get is cheaper than a put, and reads come many a millisecond
            touched.put(key, now);
        }
    }

    @Override
    public int read(ChunkKey key, String etag, int offset, ByteBuffer dst) {
        if (offset < 0 || offset > options.chunkSize()) {
            throw new IllegalArgumentException("read outside chunk: " + offset);
        }
        Optional<Chunk> found = row(key);
        if (found.isEmpty()) {
            return -1;
        }
        Chunk chunk = found.get();
        if (!chunk.dirty && (etag == null || !etag.equals(chunk.etag))) {
            return -1;
        }
        if (!chunk.dirty && !chunk.verified && !verify(key, chunk)) {
            return -1;
        }
        touch(key);
        int want = Math.min(dst.remaining(), chunk.length - offset);
        if (want <= 0) {
            return 0;
        }
        if (chunk.inline) {
            long generation = chunk.generation;
            byte[] bytes = inlineBytes(key);
            if (chunk.dirty && offset == 0 && chunk.generation == generation) {
                chunk.crcOf = new CrcOf(generation, crc(ByteBuffer.wrap(bytes)));
            }
            int copied = Math.max(0, Math.min(want, bytes.length - offset));
            dst.put(dst.position(), bytes, offset, copied);
            dst.position(dst.position() + copied);
            return copied;
        }
        try {
            int copied = readFile(key, offset, dst, want);
            if (copied < want && !chunk.dirty) {
                // A clean chunk shorter than its row: damaged. Forget it; the caller refetches.
                forgetDamaged(key, chunk);
                return -1;
            }
            dst.position(dst.position() + copied);
            return copied;
        } catch (NoSuchFileException e) {
            if (chunk.dirty) {
                throw new UncheckedIOException("dirty chunk " + key + " lost its file", e);
            }
            forgetDamaged(key, chunk);
            return -1;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chunk " + key, e);
        }
    }

    /**
     * Reads up to {@code want} bytes of a chunk's file from {@code offset} into {@code dst} (position
     * kept), through a channel from {@link #readChannels}. That cache closes what it lets go of, so
     * the channel may be closed under the read: it then takes a fresh one of its own.
     */
    private int readFile(ChunkKey key, int offset, ByteBuffer dst, int want) throws IOException {
        FileChannel ch;
        try {
            ch = readChannels.get(key, openForReading);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        try {
            return readFrom(ch, offset, dst, want);
        } catch (ClosedChannelException e) {
            // Evicted (or closed by an interrupt) while in use: read through a channel of its own.
            readChannels.asMap().remove(key, ch);
            try (FileChannel own = openToRead(key)) {
                return readFrom(own, offset, dst, want);
            }
        }
    }

    private FileChannel openToRead(ChunkKey key) throws IOException {
        FileChannel channel = FileChannel.open(path(key), StandardOpenOption.READ);
        filesOpenedToRead.increment();
        return channel;
    }

    /** Position and limit of {@code dst} as they were on return. */
    private static int readFrom(FileChannel ch, int offset, ByteBuffer dst, int want) throws IOException {
        int start = dst.position();
        int limit = dst.limit();
        int copied = 0;
        int slice = dst.isDirect() ? want : IO_SLICE;
        try {
            while (copied < want) {
                // A heap buffer in slices, as writeFile writes; through dst's own limit, not a slice object per read.
                dst.limit(start + copied + Math.min(want - copied, slice)).position(start + copied);
                int n = ch.read(dst, offset + copied);
                if (n < 0) {
                    break;
                }
                copied += n;
            }
        } finally {
            dst.limit(limit).position(start);
        }
        return copied;
    }

    private static void closeQuietly(AutoCloseable channel) {
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (Exception e) {
            LOG.debug("closing a chunk file: {}", e.toString());
        }
    }

    /** The bytes of an inline chunk (empty when its row is gone), with its appends not yet in the row. */
    private byte[] inlineBytes(ChunkKey key) {
        if (!pending.containsKey(key)) {
            return rowBytes(key);
        }
        // Under the chunk's lock: the row and its pending appends as of one moment.
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            byte[] row = rowBytes(key);
            PendingAppends p = pending.get(key);
            if (p == null) {
                return row;
            }
            byte[] all = Arrays.copyOf(row, p.rowLength + p.tailLength);
            System.arraycopy(p.tail, 0, all, p.rowLength, p.tailLength);
            return all;
        } finally {
            lock.unlock();
        }
    }

    /** The read of a small chunk's bytes from its row. */
    static final String ROW_BYTES = "SELECT data FROM chunks WHERE file_id = ? AND idx = ?";

    private byte[] rowBytes(ChunkKey key) {
        return db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement(ROW_BYTES)) {
                ps.setLong(1, key.fileId());
                ps.setInt(2, key.index());
                try (ResultSet rs = ps.executeQuery()) {
                    byte[] data = rs.next() ? rs.getBytes(1) : null;
                    return data == null ? new byte[0] : data;
                }
            }
        });
    }

    /** The length and CRC-32C of a chunk's bytes as stored; a file that is gone has no bytes. */
    private record Content(long length, long crc) {
    }

    private Content content(ChunkKey key, Chunk chunk) throws IOException {
        CRC32C crc = new CRC32C();
        if (chunk.inline) {
            byte[] bytes = inlineBytes(key);
            crc.update(bytes);
            return new Content(bytes.length, crc.getValue());
        }
        // Read in pieces: a chunk's whole 4 MiB in one new array, for each chunk that turns clean,
        // kept the garbage collector copying them after every big upload.
        ByteBuffer piece = ByteBuffer.allocate(64 * 1024);
        long length = 0;
        try (FileChannel channel = FileChannel.open(path(key), StandardOpenOption.READ)) {
            while (channel.read(piece.clear()) > 0) {
                crc.update(piece.flip());
                length += piece.limit();
            }
        } catch (NoSuchFileException e) {
            return new Content(0, new CRC32C().getValue());
        }
        return new Content(length, crc.getValue());
    }

    private boolean verify(ChunkKey key, Chunk chunk) {
        try {
            if (!chunk.inline && !Files.exists(path(key))) {
                throw new NoSuchFileException(path(key).toString());
            }
            Content stored = content(key, chunk);
            if (stored.length() == chunk.length && stored.crc() == chunk.crc) {
                chunk.verified = true;
                return true;
            }
        } catch (NoSuchFileException e) {
            // Treated as damage below.
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chunk " + key, e);
        }
        LOG.warn("cached chunk {} failed its integrity check; it will be fetched again", key);
        forgetDamaged(key, chunk);
        return false;
    }

    private void forgetDamaged(ChunkKey key, Chunk seen) {
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            Optional<Chunk> now = row(key);
            if (now.isPresent() && now.get() == seen && !seen.dirty) {
                deleteRow(key, seen);
                deleteFile(key, seen);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public <T> T putClean(List<CleanChunk> chunks, Supplier<T> alongside) {
        for (CleanChunk c : chunks) {
            if (c.data().remaining() > options.chunkSize()) {
                throw new IllegalArgumentException("chunk larger than the chunk size");
            }
        }
        return commitClean(chunks.stream().map(CleanChunk::key).toList(),
                (i, current) -> prepareClean(chunks.get(i), current), alongside);
    }

    @Override
    public CleanChunkWriter storeClean(ChunkKey key, String etag) {
        return new StreamedChunk(key, etag);
    }

    /**
     * Stores the clean chunks {@code chunks} and the changes of {@code alongside} in one transaction:
     * under the chunks' stripe locks, {@code prepare} (given a chunk's position in the list and its row
     * as it is) makes the bytes of each chunk that is not dirty ready for its row.
     */
    private <T> T commitClean(List<ChunkKey> chunks, BiFunction<Integer, Optional<Chunk>, Stored> prepare,
            Supplier<T> alongside) {
        Set<ChunkKey> keys = new HashSet<>();
        for (ChunkKey key : chunks) {
            if (!keys.add(key)) {
                throw new IllegalArgumentException("chunk " + key + " twice in one batch");
            }
        }
        // Each stripe once, in the order of their index: two batches never wait for each other's.
        ReentrantLock[] locks = chunks.size() == 1 ? new ReentrantLock[] {stripe(chunks.getFirst())}
                : keys.stream().mapToInt(SqliteChunkStore::stripeIndex).distinct().sorted()
                        .mapToObj(i -> stripes[i]).toArray(ReentrantLock[]::new);
        int held = 0;
        T result;
        try {
            for (ReentrantLock l : locks) {
                l.lock();
                held++;
            }
            List<Stored> stored = new ArrayList<>(chunks.size());
            try {
                for (int i = 0; i < chunks.size(); i++) {
                    Optional<Chunk> current = row(chunks.get(i));
                    if (current.isEmpty() || !current.get().dirty) {
                        stored.add(prepare.apply(i, current));
                    }
                }
                // The stripe locks before the database's (the lock order): the rows and what goes
                // with them commit together; memory learns of the rows once they have.
                long now = options.clock().millis();
                result = db.transaction(c -> {
                    for (Stored st : stored) {
                        db.update("INSERT OR REPLACE INTO chunks (file_id, idx, dirty, etag, length, crc, "
                                + "last_access_ms, data) VALUES (?, ?, 0, ?, ?, ?, ?, ?)", st.key.fileId(),
                                st.key.index(), st.fresh.etag, st.fresh.length, st.fresh.crc, now, st.inlineBytes);
                    }
                    return alongside.get();
                });
            } catch (RuntimeException e) {
                // The rows as the table still has them, checked against their files before use (a
                // file may have been replaced already).
                keys.forEach(rows::invalidate);
                throw e;
            }
            for (Stored st : stored) {
                rowNow(st.key, true, false);
                if (st.fresh.inline && st.current.isPresent() && !st.current.get().inline) {
                    deleteFile(st.key);
                }
                st.current.ifPresentOrElse(old -> totalBytes.addAndGet(st.fresh.length - old.length), () -> {
                    totalBytes.addAndGet(st.fresh.length);
                    chunkCount.incrementAndGet();
                });
                st.fresh.verified = true;
                rows.put(st.key, Optional.of(st.fresh));
            }
        } finally {
            for (int i = held - 1; i >= 0; i--) {
                locks[i].unlock();
            }
        }
        evict();
        return result;
    }

    /** A clean chunk ready for its row: its bytes in the row, or already moved into its file. */
    private record Stored(ChunkKey key, Optional<Chunk> current, Chunk fresh, byte[] inlineBytes) {
    }

    /** Under the chunk's stripe lock: writes a chunk too big for its row to its file (via a temporary one). */
    private Stored prepareClean(CleanChunk c, Optional<Chunk> current) {
        ByteBuffer data = c.data();
        int length = data.remaining();
        boolean inline = length <= inlineMax;
        byte[] bytes = null;
        if (inline) {
            bytes = new byte[length];
            data.duplicate().get(bytes);
        } else {
            Path target = path(c.key());
            Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
            try {
                writeFile(tmp, data.duplicate(), 0, true);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot store chunk " + c.key(), e);
            }
            moveIntoPlace(tmp, c.key());
        }
        return new Stored(c.key(), current, new Chunk(false, c.etag(), length, crc(data.duplicate()), inline), bytes);
    }

    /** Under the chunk's stripe lock: makes a complete temporary file the chunk's file. */
    private void moveIntoPlace(Path tmp, ChunkKey key) {
        try {
            Files.move(tmp, path(key), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store chunk " + key, e);
        }
        readChannels.invalidate(key); // it was open on the file just replaced
    }

    /**
     * A clean chunk stored as its bytes come ({@link #storeClean(ChunkKey, String)}): the first
     * {@link #inlineMax} held in memory; once there are more, all of them in a temporary file of this
     * writer's own, written under no lock. The chunk's stripe lock is taken only to move the file into
     * place and store the row, as {@link #putClean} does. A file left by a crash is removed at start
     * ({@link #reconcile}: its name is not a chunk's).
     */
    private final class StreamedChunk implements CleanChunkWriter {
        private final ChunkKey key;
        private final String etag;
        private final CRC32C crc = new CRC32C();
        private byte[] head;
        private int length;
        private Path tmp;
        private FileChannel file;
        private boolean ended;

        StreamedChunk(ChunkKey key, String etag) {
            this.key = key;
            this.etag = etag;
        }

        @Override
        public void append(ByteBuffer data) {
            if (ended) {
                throw new IllegalStateException("chunk " + key + " already stored or dropped");
            }
            int n = data.remaining();
            if (length + n > options.chunkSize()) {
                throw new IllegalArgumentException("chunk larger than the chunk size");
            }
            crc.update(data.duplicate());
            if (file == null && length + n <= inlineMax) {
                if (head == null) {
                    head = new byte[inlineMax];
                }
                data.get(head, length, n);
                length += n;
                return;
            }
            try {
                if (file == null) {
                    Path target = path(key);
                    tmp = target.resolveSibling(target.getFileName() + "." + streamedFiles.incrementAndGet() + ".tmp");
                    file = openForWriting(tmp, true);
                    if (length > 0) { // what was held in memory goes first
                        writeAll(file, ByteBuffer.wrap(head, 0, length), 0);
                    }
                    head = null;
                }
                writeAll(file, data, length);
                length += n;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot store chunk " + key, e);
            }
        }

        @Override
        public void store() {
            if (ended) {
                throw new IllegalStateException("chunk " + key + " already stored or dropped");
            }
            ended = true;
            try {
                if (file != null) {
                    file.close();
                }
                commitClean(List.of(key), (i, current) -> {
                    boolean inline = file == null;
                    if (!inline) {
                        moveIntoPlace(tmp, key);
                        tmp = null;
                    }
                    byte[] bytes = inline ? Arrays.copyOf(head == null ? new byte[0] : head, length) : null;
                    return new Stored(key, current, new Chunk(false, etag, length, crc.getValue(), inline), bytes);
                }, () -> null);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot store chunk " + key, e);
            } finally {
                close();
            }
        }

        @Override
        public void close() {
            ended = true;
            closeQuietly(file);
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    LOG.debug("cannot remove {}: {}", tmp, e.toString()); // start-up removes it
                }
                tmp = null;
            }
        }
    }

    @Override
    public void write(ChunkKey key, int offset, ByteBuffer data) {
        int end = offset + data.remaining();
        if (offset < 0 || end > options.chunkSize()) {
            throw new IllegalArgumentException("write outside chunk: " + offset + "+" + data.remaining());
        }
        if (!data.hasRemaining()) {
            return;
        }
        ReentrantLock lock = stripe(key);
        RoomWait wait = new RoomWait(System.nanoTime() + options.dirtyWait().toNanos());
        while (true) {
            boolean diskRoom = diskHasRoom(data.remaining()); // before the lock: it may evict
            lock.lock();
            try {
                countAgain(key);
                Optional<Chunk> current = row(key);
                // A clean chunk that is written becomes dirty as a whole.
                int held = current.map(ch -> ch.length).orElse(0);
                int oldDirty = current.filter(ch -> ch.dirty).map(ch -> ch.length).orElse(0);
                long growth = Math.max(held, end) - oldDirty;
                if (growth == 0 || diskRoom && reserveDirty(growth)) {
                    writeLocked(key, current, offset, data, end);
                    return;
                }
            } finally {
                lock.unlock();
            }
            awaitRoom(key, diskRoom, wait);
        }
    }

    @Override
    public void roomMadeBy(BooleanSupplier underway) {
        somethingUnderway = Objects.requireNonNull(underway, "underway");
    }

    /**
     * Whether the disk keeps {@code writeReserveBytes} free after {@code bytes} more, once clean chunks
     * were evicted if need be: dirty bytes cannot be evicted, and the index must always find room
     * for a commit (a full disk fails it with SQLITE_FULL). Judged from a reading of the disk up to
     * {@link #FREE_DISK_READING_MS} old, less the writes since, while that leaves twice the reserve;
     * else from a new one. So something else filling the disk within that time can take part of the
     * reserve before a write notices.
     */
    private boolean diskHasRoom(long bytes) {
        long reserve = options.writeReserveBytes();
        if (reserve == 0) {
            return true;
        }
        long now = options.clock().millis();
        // A recent reading stands only while it leaves twice the reserve: close to the limit, and
        // whenever a write may be refused, the disk is read again.
        if (now < freeDiskEstimateUntil) {
            long estimate = freeDiskEstimate.addAndGet(-bytes);
            if (estimate >= 2 * reserve) {
                return true;
            }
        }
        long free = freeDisk();
        if (free - bytes < reserve) {
            evict();
            free = freeDisk();
        }
        freeDiskEstimate.set(free - bytes);
        freeDiskEstimateUntil = now + FREE_DISK_READING_MS;
        return free - bytes >= reserve;
    }

    /** Takes room for dirty bytes if the limit allows (always when nothing else is dirty). */
    private boolean reserveDirty(long bytes) {
        while (true) {
            long now = dirtyBytes.get();
            if (now > 0 && now + bytes > options.maxDirtyBytes()) {
                return false;
            }
            if (dirtyBytes.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /**
     * How long a write may still wait for room: until {@code deadline}, and only while something
     * could make room. Nothing could for this long before the write gives up: a close under way
     * schedules its upload within milliseconds.
     */
    private static final class RoomWait {
        static final long NOTHING_UNDERWAY_NANOS = TimeUnit.SECONDS.toNanos(1);

        final long deadline;
        /** Since when nothing could make room, as {@link System#nanoTime}; meaningful while {@code idle}. */
        long idleSince;
        boolean idle;

        RoomWait(long deadline) {
            this.deadline = deadline;
        }
    }

    /**
     * Waits a moment for uploads (or deletions) to make room: until dirty bytes drain or 200 ms pass,
     * after which the caller looks at the disk again. The write fails past the wait's deadline, and
     * sooner when nothing could make room: at once if the disk is short and nothing at all is dirty,
     * or once {@linkplain #roomMadeBy nothing is under way} for {@link RoomWait#NOTHING_UNDERWAY_NANOS}
     * (only files still open for writing hold dirty bytes then).
     */
    private void awaitRoom(ChunkKey key, boolean diskRoom, RoomWait wait) {
        long now = System.nanoTime();
        if (!diskRoom && dirtyBytes.get() == 0 && sentAsParts.isEmpty()) {
            throw new CacheFullException(diskShort(key) + "; nothing waits for upload");
        }
        if (underway()) {
            wait.idle = false;
        } else if (!wait.idle) {
            wait.idle = true;
            wait.idleSince = now;
        } else if (now - wait.idleSince >= RoomWait.NOTHING_UNDERWAY_NANOS) {
            throw new CacheFullException(shortOfRoom(key, diskRoom)
                    + "; nothing is being uploaded: only files still open for writing hold dirty bytes");
        }
        long left = wait.deadline - now;
        if (left <= 0) {
            throw new CacheFullException(shortOfRoom(key, diskRoom) + "; waited " + options.dirtyWait()
                    + " for uploads to make room");
        }
        dirtyLock.lock();
        try {
            dirtyDrained.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CacheFullException("interrupted while waiting for cache space");
        } finally {
            dirtyLock.unlock();
        }
    }

    /** {@link #somethingUnderway}; when it cannot tell (its journal read failed), the write keeps waiting. */
    private boolean underway() {
        try {
            return somethingUnderway.getAsBoolean();
        } catch (RuntimeException e) {
            LOG.debug("cannot tell whether anything could make room: {}", e.toString());
            return true;
        }
    }

    private String shortOfRoom(ChunkKey key, boolean diskRoom) {
        return diskRoom
                ? "the cache holds " + dirtyBytes.get() + " bytes not yet uploaded (limit " + options.maxDirtyBytes()
                        + ") and cannot take " + key
                : diskShort(key);
    }

    /**
     * A chunk write or flush that failed: {@link CacheFullException} when the disk is full or over a
     * quota (the JDK gives only the system's text for it), so the drive answers ENOSPC; else a fault.
     */
    private static RuntimeException writeFailure(String what, IOException e) {
        String why = String.valueOf(e.getMessage());
        if (why.contains("No space left on device") || why.contains("Disk quota exceeded")) {
            return new CacheFullException("the cache's disk is full: " + what + " (" + why + ")");
        }
        return new UncheckedIOException(what, e);
    }

    private String diskShort(ChunkKey key) {
        return "the cache's disk has " + freeDisk() + " bytes free, too few to take " + key + " and keep the "
                + options.writeReserveBytes() + " writers keep free";
    }

    @Override
    public void sentAsPart(ChunkKey key, long generation) {
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            Chunk chunk = row(key).orElse(null);
            if (chunk != null && chunk.dirty && chunk.generation == generation
                    && sentAsParts.putIfAbsent(key, chunk.length) == null) {
                releaseDirty(chunk.length);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void countSentParts(long fileId) {
        for (ChunkKey key : sentAsParts.keySet()) {
            if (key.fileId() == fileId) {
                ReentrantLock lock = stripe(key);
                lock.lock();
                try {
                    countAgain(key);
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** Under the chunk's stripe lock: a chunk {@linkplain #sentAsPart sent as a part} counts as dirty again. */
    private void countAgain(ChunkKey key) {
        Integer bytes = sentAsParts.remove(key);
        if (bytes != null) {
            dirtyBytes.addAndGet(bytes);
        }
    }

    private void releaseDirty(long bytes) {
        if (bytes == 0) {
            return;
        }
        dirtyBytes.addAndGet(-bytes);
        dirtyLock.lock();
        try {
            dirtyDrained.signalAll();
        } finally {
            dirtyLock.unlock();
        }
    }

    /** Writes into a chunk; the caller holds its stripe lock and has accounted for the dirty bytes. */
    private void writeLocked(ChunkKey key, Optional<Chunk> current, int offset, ByteBuffer data, int end) {
        if (current.isEmpty() ? end <= inlineMax : current.get().inline) {
            writeInline(key, current.orElse(null), offset, data, end);
            return;
        }
        Chunk chunk;
        if (current.isPresent() && current.get().dirty) {
            chunk = current.get();
        } else {
            // Dirty in the index first, durably; then the bytes (see the class comment).
            int length = current.map(ch -> ch.length).orElse(0);
            db.update("INSERT OR REPLACE INTO chunks (file_id, idx, dirty, etag, length, crc, last_access_ms) "
                    + "VALUES (?, ?, 1, NULL, ?, 0, ?)", key.fileId(), key.index(), length, options.clock().millis());
            rowNow(key, true, true);
            chunk = new Chunk(true, null, length, 0, false);
            if (current.isEmpty()) {
                chunkCount.incrementAndGet();
            }
            dirtyCount.incrementAndGet();
            rows.put(key, Optional.of(chunk));
        }
        try {
            writeFile(path(key), data.duplicate(), offset, false);
        } catch (IOException e) {
            throw writeFailure("cannot write chunk " + key, e);
        }
        unsynced(key);
        data.position(data.limit());
        if (end > chunk.length) {
            totalBytes.addAndGet(end - chunk.length);
            chunk.length = end;
        }
        chunk.generation = generations.incrementAndGet();
        touch(key);
        if (end == options.chunkSize()) {
            syncSoon(key, chunk.generation);
        }
    }

    /**
     * A chunk file written up to its end (a file written from start to end fills its chunks one after
     * the other) is synced in the background now rather than by the close: the close of a big file
     * then waits for its last chunks only. Under the chunk's stripe lock, with {@code generation} the
     * one the write just gave it.
     */
    private void syncSoon(ChunkKey key, long generation) {
        if (!syncQueued.add(key)) {
            return; // one is queued: it finds a newer generation and leaves the chunk to force
        }
        try {
            syncer.execute(() -> syncEarly(key, generation));
        } catch (RejectedExecutionException e) {
            syncQueued.remove(key); // closing: force syncs it
        }
    }

    private void syncEarly(ChunkKey key, long generation) {
        syncQueued.remove(key);
        try {
            fsync(key);
            ReentrantLock lock = stripe(key);
            lock.lock();
            try {
                // Only if no write came after the one that queued this sync: its bytes may have missed it.
                if (row(key).filter(ch -> ch.dirty && ch.generation == generation).isPresent()) {
                    unsynced.computeIfPresent(key.fileId(), (id, indexes) -> {
                        indexes.remove(key.index());
                        return indexes.isEmpty() ? null : indexes;
                    });
                }
            } finally {
                lock.unlock();
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("early sync of chunk {} (force syncs it): {}", key, e.toString()); // dropped, or closing
        }
    }

    /**
     * Writes into a chunk whose bytes are in its row: one statement stores the new content. A chunk
     * already dirty changes only its bytes and length (its index entries stay as they are); a write
     * at its end, the way files are written, appends without reading the bytes before it. A chunk
     * that grows past {@link #inlineMax} moves to a file, written before the row lets go of the
     * bytes. The caller holds the stripe lock and has accounted for the dirty bytes.
     */
    private void writeInline(ChunkKey key, Chunk old, int offset, ByteBuffer data, int end) {
        int oldLength = old == null ? 0 : old.length;
        int newLength = Math.max(oldLength, end);
        boolean spill = newLength > inlineMax;
        Chunk chunk;
        if (old != null && old.dirty && !spill) {
            if (offset == oldLength && logAppend(key, oldLength, data)) {
                // In the append log; the row takes it later (settle).
            } else if (offset == oldLength) {
                settle(key);
                byte[] more = new byte[data.remaining()];
                data.duplicate().get(more);
                // || makes text (whose length() ends at a zero byte): the cast keeps the result a blob.
                db.update("UPDATE chunks SET data = CAST(coalesce(data, x'') || ? AS BLOB), length = ? "
                        + "WHERE file_id = ? AND idx = ?", more, newLength, key.fileId(), key.index());
            } else {
                settle(key);
                db.update("UPDATE chunks SET data = ?, length = ? WHERE file_id = ? AND idx = ?",
                        merged(key, oldLength, offset, data, newLength), newLength, key.fileId(), key.index());
            }
            chunk = old;
            chunk.length = newLength;
        } else {
            byte[] bytes = merged(key, oldLength, offset, data, newLength);
            if (spill) {
                try {
                    writeFile(path(key), ByteBuffer.wrap(bytes), 0, true);
                } catch (IOException e) {
                    throw writeFailure("cannot write chunk " + key, e);
                }
                unsynced(key);
            }
            // A new row (or one moved to a file) is past every append logged for the chunk before.
            db.update("INSERT OR REPLACE INTO chunks (file_id, idx, dirty, etag, length, crc, last_access_ms, data, "
                    + "log_seq) VALUES (?, ?, 1, NULL, ?, 0, ?, ?, ?)", key.fileId(), key.index(), newLength,
                    options.clock().millis(), spill ? null : bytes, appendSequence.get());
            rowNow(key, true, true);
            dropPending(key);
            chunk = new Chunk(true, null, newLength, 0, !spill);
            if (old == null) {
                chunkCount.incrementAndGet();
            }
            if (old == null || !old.dirty) {
                dirtyCount.incrementAndGet();
            }
            rows.put(key, Optional.of(chunk));
        }
        totalBytes.addAndGet(newLength - oldLength);
        data.position(data.limit());
        chunk.generation = generations.incrementAndGet();
        touch(key);
        if (spill && end == options.chunkSize()) {
            syncSoon(key, chunk.generation);
        }
    }

    /**
     * Puts {@code data}, written at the end ({@code length}) of a dirty chunk whose bytes are in its
     * row, in the append log instead of the row: one {@code pwrite} instead of a statement. Returns
     * false, leaving it to the row, when memory or the log hold as much as they may. Under the
     * chunk's stripe lock.
     */
    private boolean logAppend(ChunkKey key, int length, ByteBuffer data) {
        int n = data.remaining();
        if (n == 0 || pendingBytes.get() + n > PENDING_MAX || appendLog.size() > LOG_MAX) {
            return false;
        }
        PendingAppends p = pending.get(key);
        boolean fresh = p == null;
        if (fresh) {
            // Pending before it is in the log: the log starts again only when nothing is pending.
            p = new PendingAppends(length);
            pending.put(key, p);
        }
        long sequence = appendSequence.incrementAndGet();
        try {
            appendLog.append(sequence, key, length, data);
        } catch (IOException e) {
            if (fresh) {
                dropPending(key);
            }
            throw writeFailure("cannot write chunk " + key, e);
        }
        p.add(data, sequence);
        pendingBytes.addAndGet(n);
        return true;
    }

    /**
     * Moves a chunk's logged appends into its row (one statement, committed; the row records the
     * last append's sequence number, so a replay after a crash skips them). Under the chunk's
     * stripe lock; nothing to do when none are pending.
     */
    private void settle(ChunkKey key) {
        PendingAppends p = pending.get(key);
        if (p == null) {
            return;
        }
        // || makes text (whose length() ends at a zero byte): the cast keeps the result a blob.
        db.update("UPDATE chunks SET data = CAST(coalesce(data, x'') || ? AS BLOB), length = ?, log_seq = ? "
                + "WHERE file_id = ? AND idx = ?", p.tailBytes(), p.rowLength + p.tailLength, p.lastSequence,
                key.fileId(), key.index());
        dropPending(key);
    }

    /** Forgets a chunk's pending appends (taken into its row, or its row replaced or gone); under its stripe lock. */
    private void dropPending(ChunkKey key) {
        PendingAppends p = pending.remove(key);
        if (p == null) {
            return;
        }
        pendingBytes.addAndGet(-p.tailLength);
        if (appendLog.size() > 1 << 20) { // not after every file: an emptied log costs a truncation
            try {
                appendLog.restartIf(pending::isEmpty);
            } catch (IOException e) {
                LOG.debug("cannot empty the append log: {}", e.toString()); // it goes on growing; tried again later
            }
        }
    }

    /** Settles the pending appends of a file, before its bytes are made durable. */
    private void settleFile(long fileId) {
        for (ChunkKey key : pending.keySet()) {
            if (key.fileId() == fileId) {
                settleLocking(key);
            }
        }
    }

    private void settleLocking(ChunkKey key) {
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            settle(key);
        } finally {
            lock.unlock();
        }
    }

    /**
     * At start, before anything reads the rows: the appends the log holds that their rows did not
     * take before the last process ended go into them, in order, in one transaction, made durable
     * before the log is emptied. An append counts only for a row that is still dirty and in the
     * index, has not taken it ({@code log_seq} below its number) and ends where it begins; any
     * other is from before the chunk was settled, replaced, cut or dropped.
     */
    private void replayAppends() throws IOException {
        List<AppendLog.Append> appends = appendLog.records();
        // Past every number an earlier process gave, without reading the rows (a max over log_seq
        // walks every small chunk's bytes). This count needs no sync of its own: a row holding a
        // number of this start can only be durable with it.
        long start = db.transaction(c -> Database.query(c, "INSERT INTO settings VALUES ('append_log_starts', '1') "
                + "ON CONFLICT (name) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value",
                rs -> rs.getLong(1)).getFirst());
        appendSequence.set(start << SEQUENCE_BITS);
        if (appends.isEmpty()) {
            appendLog.restartIf(() -> true);
            return;
        }
        int taken = db.transaction(c -> {
            int n = 0;
            for (AppendLog.Append a : appends) {
                n += db.update("UPDATE chunks SET data = CAST(data || ? AS BLOB), length = ? + ?, log_seq = ? "
                        + "WHERE file_id = ? AND idx = ? AND dirty = 1 AND data IS NOT NULL AND log_seq < ? "
                        + "AND length(data) = ? AND ? + ? <= ?", a.data(), a.offset(), a.data().length, a.sequence(),
                        a.key().fileId(), a.key().index(), a.sequence(), a.offset(), a.offset(), a.data().length,
                        inlineMax);
            }
            return n;
        });
        db.sync();
        appendLog.restartIf(() -> true);
        LOG.info("the cache took {} of {} appends left in its log by the last process", taken, appends.size());
    }

    /** The inline chunk's {@code oldLength} bytes with {@code data} written at {@code offset}. */
    private byte[] merged(ChunkKey key, int oldLength, int offset, ByteBuffer data, int newLength) {
        byte[] bytes = Arrays.copyOf(oldLength == 0 ? new byte[0] : inlineBytes(key), newLength);
        data.duplicate().get(bytes, offset, data.remaining());
        return bytes;
    }

    /**
     * The most of a heap buffer read or written at once. The JDK copies a heap buffer through a direct
     * buffer of the same size that it keeps for the thread (up to the launcher's
     * {@code jdk.nio.maxCachedBufferSize}); with 4 MiB chunks and some 90 threads, whole chunks would
     * add up, and 256 KiB slices held 5 MB more than these after a cold tree read (session 37).
     */
    private static final int IO_SLICE = 64 * 1024;

    /**
     * The most of a direct buffer written at once. On this project's benchmark machine, chunks of 4 MiB
     * written in one call each made a cold read of 256 MiB take 0.63-0.65 s, against 0.37-0.44 s in
     * slices of this size (docs/BENCHMARKS.md, session 49; why, not traced).
     */
    private static final int DIRECT_WRITE_SLICE = 256 * 1024;

    /** Writes {@code src} into a private chunk file at {@code at}, creating it (and its directory) if needed. */
    private static void writeFile(Path file, ByteBuffer src, long at, boolean replace) throws IOException {
        try (FileChannel ch = openForWriting(file, replace)) {
            writeAll(ch, src, at);
        }
    }

    /** Opens a private chunk file for writing, creating it (and its directory) if needed. */
    private static FileChannel openForWriting(Path file, boolean replace) throws IOException {
        var flags = replace
                ? java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)
                : java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            return FileChannel.open(file, flags, LocalFiles.privateFile());
        } catch (NoSuchFileException e) {
            // Its directory is made at the first chunk file in it (or again, if it was removed).
            LocalFiles.createPrivateDirectories(file.getParent());
            return FileChannel.open(file, flags, LocalFiles.privateFile());
        }
    }

    /** Writes all of {@code src} at {@code at}, in slices ({@link #IO_SLICE}, {@link #DIRECT_WRITE_SLICE}). */
    private static void writeAll(FileChannel ch, ByteBuffer src, long at) throws IOException {
        int most = src.isDirect() ? DIRECT_WRITE_SLICE : IO_SLICE;
        while (src.hasRemaining()) {
            ByteBuffer slice = src.slice(src.position(), Math.min(src.remaining(), most));
            int n = ch.write(slice, at);
            at += n;
            src.position(src.position() + n);
        }
    }

    @Override
    public void truncate(long fileId, long size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size");
        }
        int cs = options.chunkSize();
        for (int index : indexes(fileId)) {
            ChunkKey key = new ChunkKey(fileId, index);
            long start = (long) index * cs;
            if (start >= size) {
                dropChunk(key);
            } else if (start + cs > size) {
                int keep = (int) (size - start);
                cut(key, keep);
            }
        }
    }

    private void cut(ChunkKey key, int keep) {
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            settle(key);
            countAgain(key);
            Optional<Chunk> current = row(key);
            if (current.isEmpty() || current.get().length <= keep) {
                return;
            }
            // Make it dirty (a zero-length write; its bytes now count as dirty), then shorten the file.
            if (!current.get().dirty) {
                dirtyBytes.addAndGet(current.get().length);
            }
            writeLocked(key, current, 0, ByteBuffer.allocate(0), 0);
            Chunk chunk = row(key).orElseThrow();
            if (chunk.inline) {
                db.update("UPDATE chunks SET data = substr(data, 1, ?), length = ? WHERE file_id = ? AND idx = ?",
                        keep, keep, key.fileId(), key.index());
            } else {
                try (FileChannel ch = FileChannel.open(path(key), StandardOpenOption.WRITE)) {
                    ch.truncate(keep);
                }
                unsynced(key);
            }
            int removed = chunk.length - keep;
            chunk.length = keep;
            totalBytes.addAndGet(-removed);
            releaseDirty(removed);
            chunk.generation = generations.incrementAndGet();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate chunk " + key, e);
        } finally {
            lock.unlock();
        }
    }

    /** The indexes of the file's chunk rows, in order. */
    private List<Integer> indexes(long fileId) {
        return List.copyOf(chunksOf(fileId).all);
    }

    static final String FILE_CHUNKS = "SELECT idx, dirty FROM chunks WHERE file_id = ?";

    private FileChunks chunksOf(long fileId) {
        FileChunks known = fileChunks.get(fileId);
        if (known != null) {
            return known;
        }
        keepRoomForFileChunks();
        return fileChunks.computeIfAbsent(fileId, loadFileChunks);
    }

    private void keepRoomForFileChunks() {
        if (fileChunks.size() >= FILES_KEPT) {
            fileChunks.clear();
        }
    }

    private FileChunks loadFileChunks(long fileId) {
        FileChunks f = new FileChunks();
        for (int[] row : db.query(FILE_CHUNKS, rs -> new int[] {rs.getInt(1), rs.getInt(2)}, fileId)) {
            f.all.add(row[0]);
            if (row[1] == 1) {
                f.dirty.add(row[0]);
            }
        }
        return f;
    }

    /** After the commit of a change to a chunk's row: whether it is there now, and dirty (see {@link #fileChunks}). */
    private void rowNow(ChunkKey key, boolean present, boolean dirty) {
        fileChunks.computeIfPresent(key.fileId(), (id, f) -> {
            if (present) {
                f.all.add(key.index());
            } else {
                f.all.remove(key.index());
            }
            if (present && dirty) {
                f.dirty.add(key.index());
            } else {
                f.dirty.remove(key.index());
            }
            return f;
        });
    }

    /** Forgets every file's chunk indexes, so that the next use reads them from the table (tests). */
    void forgetFileChunks() {
        fileChunks.clear();
    }

    @Override
    public void force(long fileId) {
        settleFile(fileId); // into the index, which the caller syncs next
        Set<Integer> indexes = unsynced.remove(fileId);
        if (indexes == null) {
            return; // its bytes are in the index (synced with it) or synced already
        }
        for (int index : indexes) {
            try {
                fsync(new ChunkKey(fileId, index));
            } catch (NoSuchFileException e) {
                // Dropped, moved into the index, or a zero-length dirty chunk (a cut to nothing): no bytes to flush.
            } catch (IOException e) {
                indexes.forEach(i -> unsynced(new ChunkKey(fileId, i))); // the next force tries them again
                throw writeFailure("cannot flush chunk " + fileId + "-" + index, e);
            }
        }
    }

    private void fsync(ChunkKey key) throws IOException {
        try (FileChannel ch = FileChannel.open(path(key), StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Whether the chunk's file may hold bytes not yet synced (for tests). */
    boolean isUnsynced(ChunkKey key) {
        Set<Integer> indexes = unsynced.get(key.fileId());
        return indexes != null && indexes.contains(key.index());
    }

    /** The chunk's file has bytes not yet synced. */
    private void unsynced(ChunkKey key) {
        unsynced.compute(key.fileId(), (id, indexes) -> {
            Set<Integer> set = indexes == null ? new HashSet<>() : indexes;
            set.add(key.index());
            return set;
        });
    }

    @Override
    public Map<Integer, Long> dirtyChunks(long fileId) {
        Map<Integer, Long> out = new HashMap<>();
        for (int index : chunksOf(fileId).dirty) {
            row(new ChunkKey(fileId, index)).filter(ch -> ch.dirty).ifPresent(ch -> out.put(index, ch.generation));
        }
        return out;
    }

    @Override
    public int length(ChunkKey key) {
        return row(key).map(ch -> ch.length).orElse(-1);
    }

    @Override
    public void markUploaded(long fileId, String baseEtag, String newEtag, Map<Integer, Long> uploadedGenerations) {
        for (int index : indexes(fileId)) {
            ChunkKey key = new ChunkKey(fileId, index);
            ReentrantLock lock = stripe(key);
            lock.lock();
            try {
                settle(key); // a clean row holds all its bytes
                Optional<Chunk> current = row(key);
                if (current.isEmpty()) {
                    continue;
                }
                Chunk chunk = current.get();
                if (chunk.dirty) {
                    Long sent = uploadedGenerations.get(index);
                    if (sent != null && sent == chunk.generation) {
                        becomeClean(key, chunk, newEtag);
                    }
                } else if (baseEtag != null && baseEtag.equals(chunk.etag)) {
                    relabel(key, chunk, newEtag);
                } else if (!newEtag.equals(chunk.etag)) {
                    dropChunk(key);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private void becomeClean(ChunkKey key, Chunk chunk, String etag) {
        long crc;
        CrcOf known = chunk.crcOf;
        if (chunk.inline && known != null && known.generation() == chunk.generation) {
            crc = known.crc();
        } else {
            try {
                crc = content(key, chunk).crc();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read chunk " + key, e);
            }
        }
        int length = chunk.length;
        db.update("UPDATE chunks SET dirty = 0, etag = ?, crc = ?, length = ? WHERE file_id = ? AND idx = ?",
                etag, crc, length, key.fileId(), key.index());
        rowNow(key, true, false);
        Chunk clean = new Chunk(false, etag, length, crc, chunk.inline);
        clean.verified = true;
        rows.put(key, Optional.of(clean));
        dirtyCount.decrementAndGet();
        countAgain(key);
        releaseDirty(length);
    }

    private void relabel(ChunkKey key, Chunk chunk, String etag) {
        db.update("UPDATE chunks SET etag = ? WHERE file_id = ? AND idx = ? AND dirty = 0",
                etag, key.fileId(), key.index());
        Chunk relabelled = new Chunk(false, etag, chunk.length, chunk.crc, chunk.inline);
        relabelled.verified = chunk.verified;
        rows.put(key, Optional.of(relabelled));
    }

    @Override
    public void drop(long fileId) {
        for (int index : indexes(fileId)) {
            dropChunk(new ChunkKey(fileId, index));
        }
        unsynced.remove(fileId);
        fileChunks.remove(fileId); // read from the table if the file is written again
    }

    private void dropChunk(ChunkKey key) {
        ReentrantLock lock = stripe(key);
        lock.lock();
        try {
            Optional<Chunk> current = row(key);
            if (current.isPresent()) {
                deleteRow(key, current.get());
                deleteFile(key, current.get());
            }
        } finally {
            lock.unlock();
        }
    }

    /** Deletes the row of a chunk; the caller holds its stripe lock. */
    private void deleteRow(ChunkKey key, Chunk chunk) {
        db.update("DELETE FROM chunks WHERE file_id = ? AND idx = ?", key.fileId(), key.index());
        rowNow(key, false, false);
        dropPending(key);
        rows.put(key, ABSENT);
        touched.remove(key);
        totalBytes.addAndGet(-chunk.length);
        chunkCount.decrementAndGet();
        if (chunk.dirty) {
            dirtyCount.decrementAndGet();
            countAgain(key);
            releaseDirty(chunk.length);
        }
    }

    private void deleteFile(ChunkKey key, Chunk chunk) {
        if (!chunk.inline) {
            deleteFile(key);
        }
    }

    private void deleteFile(ChunkKey key) {
        readChannels.invalidate(key);
        try {
            Files.deleteIfExists(path(key));
        } catch (IOException e) {
            LOG.warn("cannot delete cached chunk file {}: {}", path(key), e.toString());
        }
    }

    @Override
    public void pin(long fileId, boolean pinned) {
        db.update(pinned ? "INSERT OR IGNORE INTO pinned_files (file_id) VALUES (?)"
                : "DELETE FROM pinned_files WHERE file_id = ?", fileId);
    }

    private boolean overLimits() {
        return totalBytes.get() > options.maxBytes() || freeDisk() < options.minFreeBytes();
    }

    private long freeDisk() {
        return freeDiskReading.getAsLong();
    }

    /** Reads the free space of the disk the chunks are on from {@code freeDiskReading} instead (tests). */
    void readFreeDiskWith(LongSupplier reading) {
        freeDiskReading = reading;
        freeDiskEstimateUntil = Long.MIN_VALUE;
    }

    private long readFreeDisk() {
        try {
            FileStore disk = chunkDisk;
            if (disk == null) {
                disk = Files.getFileStore(chunkDir);
                chunkDisk = disk;
            }
            return disk.getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Closes the append log as a killed process leaves it, nothing settled (tests). */
    void abandonAppendLog() {
        closeQuietly(appendLog);
    }

    /** Closes the chunk files held open for reading; the store must not be used afterwards. */
    void closeFiles() {
        readChannels.invalidateAll();
        try {
            pending.keySet().forEach(this::settleLocking);
            appendLog.restartIf(pending::isEmpty);
        } catch (IOException e) {
            LOG.warn("the append log stays for the next start: {}", e.toString());
        } finally {
            closeQuietly(appendLog);
        }
    }

    /** Writes the access times gathered in memory to the index, in one transaction. */
    void flushAccessTimes() {
        if (touched.isEmpty()) {
            return;
        }
        Map<ChunkKey, Long> batch = new HashMap<>(touched);
        db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE chunks SET last_access_ms = ? WHERE file_id = ? AND idx = ?")) {
                for (var e : batch.entrySet()) {
                    ps.setLong(1, e.getValue());
                    ps.setLong(2, e.getKey().fileId());
                    ps.setInt(3, e.getKey().index());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
        batch.forEach(touched::remove);
    }

    @Override
    public void evict() {
        if (!overLimits()) {
            return;
        }
        flushAccessTimes();
        long target = options.maxBytes() - options.maxBytes() / 10;
        while (totalBytes.get() > target || freeDisk() < options.minFreeBytes()) {
            List<ChunkKey> victims = db.query("SELECT file_id, idx FROM chunks "
                    + "WHERE dirty = 0 AND file_id NOT IN (SELECT file_id FROM pinned_files) "
                    + "ORDER BY last_access_ms, file_id, idx LIMIT 64", SqliteChunkStore::chunkKey);
            if (victims.isEmpty()) {
                return;
            }
            for (ChunkKey key : victims) {
                ReentrantLock lock = stripe(key);
                lock.lock();
                try {
                    // Re-read under the lock: a writer may have made it dirty meanwhile.
                    rows.invalidate(key);
                    Optional<Chunk> now = row(key);
                    if (now.isPresent() && !now.get().dirty) {
                        deleteRow(key, now.get());
                        deleteFile(key, now.get());
                    }
                } finally {
                    lock.unlock();
                }
                if (totalBytes.get() <= target && freeDisk() >= options.minFreeBytes()) {
                    return;
                }
            }
        }
    }

    @Override
    public Usage usage() {
        return new Usage(totalBytes.get(), dirtyBytes.get(), chunkCount.get(), dirtyCount.get());
    }

    /**
     * Start-up recovery: removes temporary and orphan chunk files (no row) older than {@code before},
     * and rows of clean chunks whose file is gone. A dirty row whose file is gone is reported: its
     * data was acknowledged, so this means the disk lost it.
     */
    void reconcile(long beforeMillis) throws IOException {
        if (!Files.isDirectory(chunkDir)) {
            return;
        }
        try (var dirs = Files.newDirectoryStream(chunkDir)) {
            for (Path dir : dirs) {
                try (var files = Files.newDirectoryStream(dir)) {
                    for (Path f : files) {
                        String name = f.getFileName().toString();
                        if (Files.getLastModifiedTime(f).toMillis() >= beforeMillis) {
                            continue;
                        }
                        ChunkKey key = parse(name);
                        // No row, or a row that holds the bytes itself (a move to or from a file cut short).
                        if (key == null || name.endsWith(".tmp") || peekRow(key).map(ch -> ch.inline).orElse(true)) {
                            if (key != null) {
                                readChannels.invalidate(key);
                            }
                            Files.deleteIfExists(f);
                        }
                    }
                }
            }
        }
        List<ChunkKey> all = db.query("SELECT file_id, idx FROM chunks", SqliteChunkStore::chunkKey);
        for (ChunkKey key : all) {
            if (peekRow(key).map(ch -> !ch.inline).orElse(false) && !Files.exists(path(key))) {
                Optional<Chunk> chunk = row(key);
                if (chunk.isPresent() && chunk.get().length > 0) {
                    if (chunk.get().dirty) {
                        LOG.error("dirty chunk {} has no file: the disk lost data that was written", key);
                    } else {
                        dropChunk(key);
                    }
                }
            }
        }
    }

    /** How many chunks' rows are held in memory (tests). */
    long rowsInMemory() {
        rows.cleanUp();
        return rows.estimatedSize();
    }

    /** How many times a read opened a chunk file (tests). */
    long filesOpenedToRead() {
        return filesOpenedToRead.sum();
    }

    /** Keeps at most {@code count} chunk files open for reading instead of {@link #READ_CHANNELS} (tests). */
    void keepReadChannels(int count) {
        readChannels.policy().eviction().orElseThrow().setMaximum(count);
    }

    /**
     * A quarter of the files the process may have open, at least 64 and at most 4,096 (16 GiB of
     * 4 MiB chunks, read at random without an open per read); the rest stay for the index, sockets
     * and the files being written. The JVM raises its limit of open files to the hard limit at start.
     */
    static int readChannelsFor(long maxOpenFiles) {
        return Math.clamp(maxOpenFiles / 4, 64, 4096);
    }

    /** The most files this process may have open; 16,384 where the platform has no such count (Windows). */
    private static long maxOpenFiles() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix
                ? unix.getMaxFileDescriptorCount() : 16_384;
    }

    /**
     * A chunk's row, from memory or the index, without keeping it in memory: recovery looks at every
     * row once, and all of them in {@link #rows} would take about 200 bytes of heap a chunk.
     */
    private Optional<Chunk> peekRow(ChunkKey key) {
        Optional<Chunk> cached = rows.getIfPresent(key);
        return cached != null ? cached : loadRow(key);
    }

    private static ChunkKey chunkKey(ResultSet rs) throws SQLException {
        return new ChunkKey(rs.getLong(1), rs.getInt(2));
    }

    private static ChunkKey parse(String name) {
        int dash = name.indexOf('-');
        if (dash <= 0 || name.contains(".")) {
            return null;
        }
        try {
            return new ChunkKey(Long.parseLong(name.substring(0, dash)), Integer.parseInt(name.substring(dash + 1)));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static long crc(ByteBuffer data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        return crc.getValue();
    }
}

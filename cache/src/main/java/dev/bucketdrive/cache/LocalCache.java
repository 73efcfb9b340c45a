package dev.bucketdrive.cache;

import dev.bucketdrive.core.local.ChunkStore;
import dev.bucketdrive.core.local.LocalTransactions;
import dev.bucketdrive.core.local.MetadataIndex;
import dev.bucketdrive.core.local.UploadJournal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.PreparedStatement;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cache directory: the chunk store, the upload journal and the metadata index, all on one SQLite
 * index ({@code index.db}), one chunk tree ({@code chunks/}) and the chunk store's append log
 * ({@code appends.log}). One process at a time: a second
 * {@link #open} of the same directory fails while the first holds it.
 */
public final class LocalCache implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalCache.class);

    private final FileChannel lockFile;
    private final FileLock lock;
    private final Database db;
    private final SqliteChunkStore chunks;
    private final SqliteUploadJournal journal;
    private final SqliteMetadataIndex index;
    /** Syncs chunk files in the background (see {@link SqliteChunkStore}); null when the caller gave one. */
    private final ExecutorService ownSyncer;

    private LocalCache(CacheOptions options, FileChannel lockFile, FileLock lock, Executor syncer) {
        this.lockFile = lockFile;
        this.lock = lock;
        this.ownSyncer = syncer == null
                ? Executors.newSingleThreadExecutor(Thread.ofPlatform().name("chunk-sync").daemon().factory()) : null;
        Path dir = options.directory();
        this.db = new Database(dir.resolve("index.db"));
        try {
            checkChunkSize(options.chunkSize());
            Path chunkDir = dir.resolve("chunks");
            LocalFiles.createPrivateDirectories(chunkDir);
            this.chunks = new SqliteChunkStore(db, options, chunkDir, syncer == null ? ownSyncer : syncer);
            this.journal = new SqliteUploadJournal(db);
            this.index = new SqliteMetadataIndex(db, chunks::noRowsYet);
        } catch (IOException | RuntimeException e) {
            stopSyncer();
            db.close();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /**
     * Opens (creating if needed) the cache directory. Start-up recovery — removing orphan chunk files
     * and rows of lost clean chunks — runs on {@code recovery} so the caller does not wait for it.
     * Pending journal entries need no recovery: they are simply there for the drive to resume.
     */
    public static LocalCache open(CacheOptions options, Executor recovery) {
        return open(options, recovery, null);
    }

    /** As {@link #open(CacheOptions, Executor)}, with chunk files synced in the background on {@code syncer} (tests). */
    static LocalCache open(CacheOptions options, Executor recovery, Executor syncer) {
        FileChannel channel = null;
        try {
            LocalFiles.createPrivateDirectories(options.directory());
            LocalFiles.makePrivate(options.directory());
            channel = FileChannel.open(options.directory().resolve("lock"), Set.of(StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE), LocalFiles.privateFile());
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IllegalStateException("the cache directory " + options.directory()
                        + " is in use by another BucketDrive process");
            }
            LocalCache cache = new LocalCache(options, channel, lock, syncer);
            long openedAt = System.currentTimeMillis();
            recovery.execute(() -> {
                try {
                    cache.chunks.reconcile(openedAt);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("cache recovery did not finish: {}", e.toString());
                }
            });
            return cache;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new UncheckedIOException("cannot open the cache directory " + options.directory(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private void checkChunkSize(int chunkSize) {
        String stored = db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT OR IGNORE INTO settings VALUES ('chunk_size', ?)")) {
                ps.setString(1, Integer.toString(chunkSize));
                ps.executeUpdate();
            }
            try (var s = c.createStatement();
                 var rs = s.executeQuery("SELECT value FROM settings WHERE name = 'chunk_size'")) {
                return rs.getString(1);
            }
        });
        if (Integer.parseInt(stored) != chunkSize) {
            throw new IllegalStateException("the cache directory was made with " + stored
                    + "-byte chunks, not " + chunkSize + ": use another directory or the same chunk size");
        }
    }

    /** The index database (for tests of its statements). */
    Database database() {
        return db;
    }

    public ChunkStore chunks() {
        return chunks;
    }

    public UploadJournal journal() {
        return journal;
    }

    public MetadataIndex index() {
        return index;
    }

    public LocalTransactions transactions() {
        return this::inOne;
    }

    private <T> T inOne(Supplier<T> changes) {
        return db.transaction(c -> changes.get());
    }

    @Override
    public void close() {
        try {
            stopSyncer();
            chunks.flushAccessTimes();
            chunks.closeFiles();
        } finally {
            closeIndexAndUnlock();
        }
    }

    private void closeIndexAndUnlock() {
        db.close();
        try {
            lock.release();
        } catch (IOException e) {
            LOG.debug("releasing the cache lock", e);
        }
        closeQuietly(lockFile);
    }

    /**
     * Lets go of the directory as a killed process leaves it (tests): appends not settled into their
     * rows stay in the append log only, access times stay in memory.
     */
    void closeAsAKillWould() {
        try {
            stopSyncer();
            chunks.abandonAppendLog();
        } finally {
            closeIndexAndUnlock();
        }
    }

    /** Background syncs still queued are dropped: their chunks stay for the next force, as before they were queued. */
    private void stopSyncer() {
        if (ownSyncer != null) {
            ownSyncer.shutdownNow();
            try {
                ownSyncer.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing the cache lock file", e);
            }
        }
    }
}

package dev.bucketdrive.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bucketdrive.core.local.ChunkKey;
import dev.bucketdrive.core.local.ChunkStore;
import dev.bucketdrive.core.local.Entry;
import dev.bucketdrive.core.local.PendingOp;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalCacheTest {

    @TempDir
    Path dir;

    private static final int CS = 64 * 1024;
    /** Bigger than what a chunk keeps in its row: these chunks have a file of their own. */
    private static final int FILE_BACKED = 40_000;

    private LocalCache open() {
        return LocalCache.open(CacheOptions.defaults(dir).withChunkSize(CS), Runnable::run);
    }

    /** A cache whose background syncs wait in {@code syncs} until the test runs them. */
    private LocalCache openSyncingOn(ArrayDeque<Runnable> syncs) {
        return LocalCache.open(CacheOptions.defaults(dir).withChunkSize(CS), Runnable::run, syncs::add);
    }

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] read(LocalCache cache, ChunkKey key, String etag) {
        ByteBuffer dst = ByteBuffer.allocate(CS);
        int n = cache.chunks().read(key, etag, 0, dst);
        return n < 0 ? null : Arrays.copyOf(dst.array(), n);
    }

    @Test
    void dueEntriesAreFoundWithoutWalkingTheUploadsHeldBack() {
        // During an untar thousands of uploads wait for a pause in writing while the write-back looks
        // for due steps after each close: each kind has its own index by due time, so that look reads
        // only the rows it returns (one query over both kinds read every held upload, every time).
        try (LocalCache cache = open()) {
            Instant t0 = Instant.ofEpochSecond(1_700_000_000L);
            for (int i = 0; i < 3; i++) {
                cache.journal().scheduleUpload(i + 1, "held" + i, null, t0);
            }
            PendingOp delete = cache.journal().append(PendingOp.Kind.DELETE, "gone", null, null, t0);
            assertThat(cache.journal().due(t0, t0.minusSeconds(1), 10)).containsExactly(delete);
            List<String> dueQueries = cache.database().statementTexts().stream()
                    .filter(sql -> sql.contains("FROM journal WHERE") && sql.contains("due_ms <=")).toList();
            assertThat(dueQueries).isNotEmpty().allSatisfy(sql -> assertThat(cache.database().queryPlan(sql))
                    .anyMatch(step -> step.contains("journal_uploads_by_due") || step.contains("journal_steps_by_due")));
        }
    }

    @Test
    void aStepIsCommittedAtOnceAndReachesTheDiskWithTheNextSync() {
        // An rm -r appends a DELETE a file: the unlink does not wait for the disk; the write-back
        // syncs before it sends the step. A scheduled upload still waits for the disk.
        try (LocalCache cache = open()) {
            Instant t0 = Instant.ofEpochSecond(1_700_000_000L);
            cache.journal().scheduleUpload(1, "closed.txt", null, t0);
            assertThat(cache.database().sync()).as("the scheduled upload was synced already").isFalse();
            PendingOp delete = cache.journal().append(PendingOp.Kind.DELETE, "gone", null, null, t0);
            assertThat(cache.journal().due(t0, 10)).contains(delete);
            assertThat(cache.database().sync()).as("the step's commit waited for this sync").isTrue();
        }
    }

    @Test
    void bytesCrossTheChunkFileInSlicesFromHeapAndDirectBuffers() {
        // A heap buffer goes to the chunk file in 64 KiB slices, a direct one (a FUSE request's) in
        // 256 KiB slices: both ways, at offsets that do not fall on a slice, every
        // byte lands where it belongs.
        int cs = 4 * 1024 * 1024;
        try (LocalCache cache = LocalCache.open(CacheOptions.defaults(dir).withChunkSize(cs), Runnable::run)) {
            byte[] expected = bytes(cs, 11);
            ChunkKey key = new ChunkKey(5, 0);
            int split = 1_000_003;
            ByteBuffer direct = ByteBuffer.allocateDirect(split);
            direct.put(expected, 0, split).flip();
            cache.chunks().write(key, 0, direct);
            assertThat(direct.hasRemaining()).isFalse();
            cache.chunks().write(key, split, ByteBuffer.wrap(expected, split, cs - split).slice());

            ByteBuffer heap = ByteBuffer.allocate(cs);
            assertThat(cache.chunks().read(key, null, 0, heap)).isEqualTo(cs);
            assertThat(heap.array()).isEqualTo(expected);
            ByteBuffer directDst = ByteBuffer.allocateDirect(700_001);
            assertThat(cache.chunks().read(key, null, 65_535, directDst)).isEqualTo(700_001);
            byte[] got = new byte[700_001];
            directDst.flip().get(got);
            assertThat(got).isEqualTo(Arrays.copyOfRange(expected, 65_535, 65_535 + 700_001));

            ChunkKey fetched = new ChunkKey(6, 0);
            ByteBuffer whole = ByteBuffer.allocateDirect(cs);
            whole.put(0, expected);
            cache.chunks().putClean(fetched, "e", whole.slice(0, cs - 5));
            ByteBuffer back = ByteBuffer.allocate(cs);
            assertThat(cache.chunks().read(fetched, "e", 0, back)).isEqualTo(cs - 5);
            assertThat(Arrays.copyOf(back.array(), cs - 5)).isEqualTo(Arrays.copyOf(expected, cs - 5));
        }
    }

    @Test
    void everythingSurvivesAReopen() {
        byte[] clean = bytes(CS, 1);
        byte[] dirty = bytes(1000, 2);
        long fileId;
        try (LocalCache cache = open()) {
            fileId = cache.index().upsert(new Entry(0, "docs/report.txt", Entry.Type.FILE, CS + 1000, 1L,
                    0100644, 0, 0, "\"v1\"", 0)).id();
            cache.chunks().putClean(new ChunkKey(fileId, 0), "\"v1\"", ByteBuffer.wrap(clean));
            cache.chunks().write(new ChunkKey(fileId, 1), 0, ByteBuffer.wrap(dirty));
            cache.journal().scheduleUpload(fileId, "docs/report.txt", "\"v1\"", Instant.EPOCH);
        }
        try (LocalCache cache = open()) {
            assertThat(cache.index().lookup("docs/report.txt").orElseThrow().id()).isEqualTo(fileId);
            assertThat(read(cache, new ChunkKey(fileId, 0), "\"v1\"")).isEqualTo(clean);
            assertThat(read(cache, new ChunkKey(fileId, 1), null)).isEqualTo(dirty);
            assertThat(cache.chunks().dirtyChunks(fileId)).containsOnlyKeys(1);
            assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(1000);
            assertThat(cache.chunks().usage().totalBytes()).isEqualTo(CS + 1000);
            assertThat(cache.journal().uploadOf(fileId)).hasValueSatisfying(op ->
                    assertThat(op.baseEtag()).isEqualTo("\"v1\""));
        }
    }

    /**
     * Changing a known entry or a file's pending upload keeps its id and draws none from the id
     * sequences, whose page each commit would otherwise write again.
     */
    @Test
    void changingAKnownEntryOrPendingUploadLeavesTheIdSequencesAlone() {
        try (LocalCache cache = open()) {
            Entry first = cache.index().upsert(new Entry(0, "a.txt", Entry.Type.FILE, 1, 1L, 0100644, 0, 0, null, 0));
            PendingOp upload = cache.journal().scheduleUpload(first.id(), "a.txt", null, Instant.EPOCH);
            long entries = sequenceOf(cache, "entries");
            long journal = sequenceOf(cache, "journal");
            for (int size = 2; size <= 4; size++) {
                Entry changed = cache.index().upsert(first.withSize(size).withRemote("\"v" + size + "\"", size));
                assertThat(changed.id()).isEqualTo(first.id());
                assertThat(changed.size()).isEqualTo(size);
                assertThat(changed.etag()).isEqualTo("\"v" + size + "\"");
                PendingOp moved = cache.journal().scheduleUpload(first.id(), "a.txt", null,
                        Instant.ofEpochSecond(size));
                assertThat(moved.id()).isEqualTo(upload.id());
                assertThat(moved.due()).isEqualTo(Instant.ofEpochSecond(size));
            }
            assertThat(sequenceOf(cache, "entries")).isEqualTo(entries);
            assertThat(sequenceOf(cache, "journal")).isEqualTo(journal);
            Entry second = cache.index().upsert(new Entry(0, "b.txt", Entry.Type.FILE, 1, 1L, 0100644, 0, 0, null, 0));
            assertThat(second.id()).isEqualTo(entries + 1);
            assertThat(cache.journal().scheduleUpload(second.id(), "b.txt", null, Instant.EPOCH).id())
                    .isEqualTo(journal + 1);
        }
        try (LocalCache cache = open()) {
            assertThat(cache.index().lookup("a.txt").orElseThrow().size()).isEqualTo(4);
        }
    }

    @Test
    void theFirstChunkOfAFileTheIndexJustMadeIsWrittenWithoutLookingForItsRow() {
        try (LocalCache cache = open()) {
            Entry made = cache.index().upsert(new Entry(0, "new.txt", Entry.Type.FILE, 0, 1L, 0100644, 0, 0, null, 0));
            ChunkKey first = new ChunkKey(made.id(), 0);
            cache.chunks().write(first, 0, ByteBuffer.wrap(bytes(100, 1)));
            assertThat(rowLookups(cache)).as("a new id has no rows to look for").isEmpty();
            ChunkKey second = new ChunkKey(made.id(), 1);
            cache.chunks().write(second, 0, ByteBuffer.wrap(bytes(100, 2)));
            assertThat(rowLookups(cache)).as("its other rows are looked for").hasSize(1);
            assertThat(read(cache, first, null)).isEqualTo(bytes(100, 1));
            assertThat(read(cache, second, null)).isEqualTo(bytes(100, 2));
            cache.chunks().markUploaded(made.id(), null, "\"v1\"", cache.chunks().dirtyChunks(made.id()));
        }
        try (LocalCache cache = open()) {
            // A file the index has already keeps its rows when it is stored again (its rows are not in memory).
            Entry again = cache.index().upsert(cache.index().lookup("new.txt").orElseThrow().withSize(200));
            assertThat(read(cache, new ChunkKey(again.id(), 0), "\"v1\"")).isEqualTo(bytes(100, 1));
            assertThat(read(cache, new ChunkKey(again.id(), 1), "\"v1\"")).isEqualTo(bytes(100, 2));
        }
    }

    @Test
    void anUploadFindsTheChunksOfAFileWithoutAskingTheTableEachTime() {
        // An upload lists a file's dirty chunks before and after reading them, then all its chunks as
        // they turn clean: memory keeps each file's chunk indexes, read from the table at most once.
        long made;
        try (LocalCache cache = open()) {
            made = cache.index().upsert(new Entry(0, "new.txt", Entry.Type.FILE, 0, 1L, 0100644, 0, 0, null, 0)).id();
            cache.chunks().write(new ChunkKey(made, 0), 0, ByteBuffer.wrap(bytes(100, 1)));
            cache.chunks().write(new ChunkKey(made, 2), 0, ByteBuffer.wrap(bytes(FILE_BACKED, 2)));
            cache.chunks().putClean(new ChunkKey(made, 3), "\"v0\"", ByteBuffer.wrap(bytes(100, 3)));
            assertThat(cache.chunks().dirtyChunks(made)).containsOnlyKeys(0, 2);
            cache.chunks().markUploaded(made, null, "\"v1\"", cache.chunks().dirtyChunks(made));
            assertThat(cache.chunks().dirtyChunks(made)).isEmpty();
            assertThat(cache.database().timesRun(SqliteChunkStore.FILE_CHUNKS)).as("a new file has no rows to list")
                    .isZero();
            assertThat(read(cache, new ChunkKey(made, 3), "\"v1\"")).as("another version's chunk went").isNull();
            cache.chunks().write(new ChunkKey(made, 1), 0, ByteBuffer.wrap(bytes(50, 4)));
        }
        try (LocalCache cache = open()) {
            assertThat(cache.chunks().dirtyChunks(made)).containsOnlyKeys(1);
            assertThat(cache.database().timesRun(SqliteChunkStore.FILE_CHUNKS)).as("read once after a restart")
                    .isEqualTo(1);
            cache.chunks().write(new ChunkKey(made, 5), 0, ByteBuffer.wrap(bytes(50, 5)));
            cache.chunks().truncate(made, 2L * CS); // chunk 5 goes
            assertThat(cache.chunks().dirtyChunks(made)).containsOnlyKeys(1);
            cache.chunks().markUploaded(made, "\"v1\"", "\"v2\"", cache.chunks().dirtyChunks(made));
            assertThat(cache.database().timesRun(SqliteChunkStore.FILE_CHUNKS)).isEqualTo(1);
            assertThat(read(cache, new ChunkKey(made, 0), "\"v2\"")).isEqualTo(bytes(100, 1));
            assertThat(read(cache, new ChunkKey(made, 1), "\"v2\"")).isEqualTo(bytes(50, 4));
            assertThat(read(cache, new ChunkKey(made, 5), "\"v2\"")).isNull();
            cache.chunks().drop(made);
            assertThat(cache.chunks().dirtyChunks(made)).isEmpty();
            assertThat(read(cache, new ChunkKey(made, 0), "\"v2\"")).isNull();
        }
    }

    @Test
    void aSmallChunkTurningCleanTakesTheChecksumOfItsUploadsReadWhenNoWriteCameBetween() {
        ChunkKey read = new ChunkKey(1, 0);
        ChunkKey rewritten = new ChunkKey(2, 0);
        try (LocalCache cache = open()) {
            cache.chunks().write(read, 0, ByteBuffer.wrap(bytes(3000, 1)));
            cache.chunks().write(rewritten, 0, ByteBuffer.wrap(bytes(3000, 2)));
            assertThat(read(cache, read, null)).isEqualTo(bytes(3000, 1)); // an upload's read
            assertThat(read(cache, rewritten, null)).isEqualTo(bytes(3000, 2));
            cache.chunks().write(rewritten, 5, ByteBuffer.wrap(bytes(10, 3))); // after the upload's read
            long rowReads = cache.database().timesRun(SqliteChunkStore.ROW_BYTES);
            cache.chunks().markUploaded(1, null, "\"v1\"", cache.chunks().dirtyChunks(1));
            assertThat(cache.database().timesRun(SqliteChunkStore.ROW_BYTES)).as("bytes read again").isEqualTo(rowReads);
            cache.chunks().markUploaded(2, null, "\"v2\"", cache.chunks().dirtyChunks(2));
            assertThat(cache.database().timesRun(SqliteChunkStore.ROW_BYTES)).isEqualTo(rowReads + 1);
        }
        byte[] second = bytes(3000, 2);
        System.arraycopy(bytes(10, 3), 0, second, 5, 10);
        try (LocalCache cache = open()) { // a clean chunk's first read checks its checksum
            assertThat(read(cache, read, "\"v1\"")).isEqualTo(bytes(3000, 1));
            assertThat(read(cache, rewritten, "\"v2\"")).isEqualTo(second);
        }
    }

    private static List<String> rowLookups(LocalCache cache) {
        return cache.database().statementTexts().stream().filter(sql -> sql.startsWith("SELECT dirty, etag")).toList();
    }

    @Test
    void theUploadOfAFileWithoutOneIsInsertedWithoutLookingForItsEntryFirst() {
        Instant t0 = Instant.ofEpochSecond(1_700_000_000L);
        try (LocalCache cache = open()) {
            PendingOp first = cache.journal().holdUpload(7, "a.txt", null, t0);
            assertThat(cache.journal().complete(first.id(), first.sequence())).isTrue();
            PendingOp second = cache.journal().holdUpload(7, "a.txt", "\"v1\"", t0);
            assertThat(second.id()).isEqualTo(first.id() + 1);
            assertThat(uploadMoves(cache)).as("new uploads, inserted at once").isEmpty();
            PendingOp moved = cache.journal().holdUpload(7, "a.txt", null, t0.plusSeconds(1));
            assertThat(moved.id()).isEqualTo(second.id());
            assertThat(moved.sequence()).isEqualTo(second.sequence() + 1);
            assertThat(moved.baseEtag()).isEqualTo("\"v1\"");
            assertThat(uploadMoves(cache)).hasSize(1);
        }
        try (LocalCache cache = open()) {
            long drawn = sequenceOf(cache, "journal");
            PendingOp moved = cache.journal().holdUpload(7, "b.txt", null, t0.plusSeconds(2));
            assertThat(moved.key()).isEqualTo("b.txt");
            assertThat(cache.journal().all()).containsExactly(moved);
            assertThat(sequenceOf(cache, "journal")).as("the entry from before the restart moved, no id drawn")
                    .isEqualTo(drawn);
        }
    }

    private static List<String> uploadMoves(LocalCache cache) {
        return cache.database().statementTexts().stream().filter(sql -> sql.startsWith("UPDATE journal SET key")).toList();
    }

    private static long sequenceOf(LocalCache cache, String table) {
        return cache.database().query("SELECT seq FROM sqlite_sequence WHERE name = ?", rs -> rs.getLong(1), table)
                .getFirst();
    }

    @Test
    void filesArePrivateToTheUser() throws IOException {
        try (LocalCache cache = open()) {
            cache.chunks().write(new ChunkKey(1, 0), 0, ByteBuffer.wrap(new byte[] {1}));
            cache.chunks().putClean(new ChunkKey(1, 1), "e", ByteBuffer.wrap(new byte[] {2}));
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
                assertThat(perms).as(p.toString()).isIn("rwx------", "rw-------");
            }
        }
    }

    @Test
    void aSecondProcessCannotOpenTheSameDirectory() {
        try (LocalCache _ = open()) {
            assertThatThrownBy(this::open).isInstanceOf(IllegalStateException.class).hasMessageContaining("in use");
        }
        open().close();
    }

    @Test
    void theChunkSizeCannotChangeUnderExistingData() {
        open().close();
        assertThatThrownBy(() -> LocalCache.open(CacheOptions.defaults(dir).withChunkSize(CS * 2), Runnable::run))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("chunks");
        open().close();
    }

    @Test
    void theStartUpCountOfCleanChunksReadsOnlyAnIndexAlsoAfterAnUpgrade() throws Exception {
        open().close();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("index.db"));
             var s = c.createStatement()) {
            s.execute("DROP INDEX chunks_by_access");
            s.execute("CREATE INDEX chunks_by_access ON chunks (dirty, last_access_ms)"); // as schema 6 had it
            s.execute("PRAGMA user_version = 6");
        }
        try (LocalCache cache = open()) {
            assertThat(cache.database().queryPlan(SqliteChunkStore.CLEAN_USAGE))
                    .singleElement().asString().contains("COVERING INDEX chunks_by_access");
        }
    }

    @Test
    void anIndexFromANewerVersionIsRefused() throws Exception {
        open().close();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("index.db"))) {
            c.createStatement().execute("PRAGMA user_version = 99");
        }
        assertThatThrownBy(this::open).hasMessageContaining("newer");
    }

    @Test
    void aDamagedCleanChunkIsAMissNeverWrongData() throws IOException {
        ChunkKey key = new ChunkKey(3, 0);
        try (LocalCache cache = open()) {
            cache.chunks().putClean(key, "e", ByteBuffer.wrap(bytes(FILE_BACKED, 3)));
        }
        Path file = dir.resolve("chunks/03/3-0");
        byte[] onDisk = Files.readAllBytes(file);
        onDisk[1234] ^= 0x40;
        Files.write(file, onDisk);
        try (LocalCache cache = open()) {
            assertThat(read(cache, key, "e")).isNull();
            assertThat(cache.chunks().length(key)).isEqualTo(-1);
            assertThat(file).doesNotExist();
        }
    }

    @Test
    void chunksReadAfterTheirChannelWasLetGoOfOrTheirFileReplacedReadRight() {
        try (LocalCache cache = open()) {
            ((SqliteChunkStore) cache.chunks()).keepReadChannels(16);
            int chunks = 16 + 8; // more than stay open: the first ones are let go of
            for (int i = 0; i < chunks; i++) {
                cache.chunks().putClean(new ChunkKey(5, i), "e", ByteBuffer.wrap(bytes(FILE_BACKED, i)));
            }
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < chunks; i++) {
                    assertThat(read(cache, new ChunkKey(5, i), "e")).as("chunk %d round %d", i, round)
                            .isEqualTo(bytes(FILE_BACKED, i));
                }
            }
            ChunkKey first = new ChunkKey(5, 0);
            cache.chunks().putClean(first, "f", ByteBuffer.wrap(bytes(FILE_BACKED, 99)));
            assertThat(read(cache, first, "f")).isEqualTo(bytes(FILE_BACKED, 99));
            assertThat(read(cache, first, "e")).isNull();
        }
    }

    @Test
    void aChunkReadOverAndOverKeepsItsFileOpenWhileFilesReadTwiceComeAndGo() {
        // compare.sh's order: random reads in a big file after an untarred tree was uploaded (each
        // upload reads its file) and copied (a second read). The open files kept must be the ones
        // read most, which the cache of channels can only tell if every read asks it. Before, a read
        // used the channel its chunk's row held: the cache saw one use of a chunk read thousands of
        // times, let it go for files read twice, and compare.sh's random reads of a 256 MiB file then
        // opened a chunk file at about every third read (10,000 opens a second; 64 channels kept).
        int open = 16;
        try (LocalCache cache = open()) {
            SqliteChunkStore chunks = (SqliteChunkStore) cache.chunks();
            chunks.keepReadChannels(open);
            ByteBuffer page = ByteBuffer.allocate(4096);
            ChunkKey hot = new ChunkKey(8, 0);
            chunks.putClean(hot, "b", ByteBuffer.wrap(bytes(FILE_BACKED, 8)));
            for (int n = 0; n < 1000; n++) {
                assertThat(chunks.read(hot, "b", 4096 * (n % 9), page.clear())).isEqualTo(4096);
            }
            long opened = chunks.filesOpenedToRead();
            int hotReadsThatOpened = 0;
            for (int file = 100; file < 100 + 3 * open; file++) {
                ChunkKey key = new ChunkKey(file, 0);
                chunks.write(key, 0, ByteBuffer.wrap(bytes(FILE_BACKED, file)));
                assertThat(read(cache, key, null)).as("the upload's read").isEqualTo(bytes(FILE_BACKED, file));
                chunks.markUploaded(file, null, "t", chunks.dirtyChunks(file));
                assertThat(read(cache, key, "t")).as("the copy's read").isEqualTo(bytes(FILE_BACKED, file));
                long before = chunks.filesOpenedToRead();
                assertThat(chunks.read(hot, "b", 0, page.clear())).isEqualTo(4096);
                hotReadsThatOpened += (int) (chunks.filesOpenedToRead() - before);
            }
            assertThat(hotReadsThatOpened).as("reads of the chunk read most that opened its file").isZero();
            assertThat(chunks.filesOpenedToRead() - opened).as("files opened: one per file read twice")
                    .isEqualTo(3 * open);
        }
    }

    @Test
    void aQuarterOfTheFilesTheProcessMayOpenStayOpenForReadingWithinBounds() {
        assertThat(SqliteChunkStore.readChannelsFor(1024)).isEqualTo(256);
        assertThat(SqliteChunkStore.readChannelsFor(4096)).isEqualTo(1024);
        assertThat(SqliteChunkStore.readChannelsFor(524_288)).isEqualTo(4096);
        assertThat(SqliteChunkStore.readChannelsFor(100)).isEqualTo(64);
        assertThat(SqliteChunkStore.readChannelsFor(-1)).as("limit unknown").isEqualTo(64);
    }

    @Test
    void aTruncatedCleanChunkFileIsAMiss() throws IOException {
        ChunkKey key = new ChunkKey(4, 0);
        try (LocalCache cache = open()) {
            cache.chunks().putClean(key, "e", ByteBuffer.wrap(bytes(FILE_BACKED, 4)));
        }
        Path file = dir.resolve("chunks/04/4-0");
        Files.write(file, Arrays.copyOf(Files.readAllBytes(file), 100));
        try (LocalCache cache = open()) {
            assertThat(read(cache, key, "e")).isNull();
        }
    }

    @Test
    void recoveryRemovesOrphansAndRowsOfLostCleanChunks() throws IOException {
        try (LocalCache cache = open()) {
            cache.chunks().putClean(new ChunkKey(5, 0), "e", ByteBuffer.wrap(new byte[FILE_BACKED]));
            cache.chunks().putClean(new ChunkKey(5, 1), "e", ByteBuffer.wrap(new byte[FILE_BACKED]));
            cache.chunks().putClean(new ChunkKey(5, 2), "e", ByteBuffer.wrap(new byte[10])); // in its row
        }
        Path orphan = dir.resolve("chunks/05/5-9");
        Path tmp = dir.resolve("chunks/05/5-8.tmp");
        Files.write(orphan, new byte[3]);
        Files.write(tmp, new byte[3]);
        Files.setLastModifiedTime(orphan, java.nio.file.attribute.FileTime.fromMillis(0));
        Files.setLastModifiedTime(tmp, java.nio.file.attribute.FileTime.fromMillis(0));
        Files.delete(dir.resolve("chunks/05/5-1"));
        // A file left by a move between row and file that a crash cut short: the row holds the bytes.
        Path stray = dir.resolve("chunks/05/5-2");
        Files.write(stray, new byte[3]);
        Files.setLastModifiedTime(stray, java.nio.file.attribute.FileTime.fromMillis(0));
        try (LocalCache cache = open()) {
            assertThat(orphan).doesNotExist();
            assertThat(tmp).doesNotExist();
            assertThat(stray).doesNotExist();
            assertThat(cache.chunks().length(new ChunkKey(5, 1))).isEqualTo(-1);
            assertThat(cache.chunks().length(new ChunkKey(5, 0))).isEqualTo(FILE_BACKED);
            assertThat(read(cache, new ChunkKey(5, 2), "e")).isEqualTo(new byte[10]);
            assertThat(cache.chunks().usage().totalBytes()).isEqualTo(FILE_BACKED + 10);
        }
    }

    private List<String> chunkFilesOf(int fileId) throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve(String.format("chunks/%02x", fileId & 0xff)))) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(fileId + "-")).sorted().toList();
        }
    }

    @Test
    void aChunkGivenInPiecesLeavesNoTemporaryFileAndOneAKillLeftGoesAtTheNextStart() throws IOException {
        byte[] content = bytes(FILE_BACKED, 40);
        LocalCache cache = open();
        try (ChunkStore.CleanChunkWriter stored = cache.chunks().storeClean(new ChunkKey(40, 0), "e")) {
            stored.append(ByteBuffer.wrap(content, 0, 30_000)); // held in memory: fits in a row
            stored.append(ByteBuffer.wrap(content, 30_000, FILE_BACKED - 30_000)); // now in a file
            stored.store();
        }
        try (ChunkStore.CleanChunkWriter dropped = cache.chunks().storeClean(new ChunkKey(40, 1), "e")) {
            dropped.append(ByteBuffer.wrap(content));
        }
        cache.chunks().write(new ChunkKey(40, 2), 0, ByteBuffer.wrap(new byte[] {1}));
        try (ChunkStore.CleanChunkWriter overDirty = cache.chunks().storeClean(new ChunkKey(40, 2), "e")) {
            overDirty.append(ByteBuffer.wrap(content));
            overDirty.store();
        }
        assertThat(chunkFilesOf(40)).containsExactly("40-0");
        assertThat(read(cache, new ChunkKey(40, 2), null)).containsExactly(1);

        ChunkStore.CleanChunkWriter cut = cache.chunks().storeClean(new ChunkKey(40, 3), "e");
        cut.append(ByteBuffer.wrap(content));
        assertThat(chunkFilesOf(40)).hasSize(2).anyMatch(name -> name.startsWith("40-3.") && name.endsWith(".tmp"));
        cache.closeAsAKillWould();

        try (LocalCache reopened = open()) {
            assertThat(chunkFilesOf(40)).containsExactly("40-0");
            assertThat(read(reopened, new ChunkKey(40, 0), "e")).isEqualTo(content);
            assertThat(reopened.chunks().length(new ChunkKey(40, 3))).isEqualTo(-1);
        }
    }

    @Test
    void recoveryLooksAtEveryRowWithoutKeepingThemInMemory() throws IOException {
        try (LocalCache cache = open()) {
            for (int i = 0; i < 20; i++) {
                cache.chunks().putClean(new ChunkKey(7, i), "e", ByteBuffer.wrap(new byte[i < 2 ? FILE_BACKED : 10]));
            }
        }
        Path fileOfAChunk = dir.resolve("chunks/07/7-1");
        Files.setLastModifiedTime(fileOfAChunk, java.nio.file.attribute.FileTime.fromMillis(0));
        try (LocalCache cache = open()) { // recovery has run when open returns (Runnable::run)
            assertThat(((SqliteChunkStore) cache.chunks()).rowsInMemory()).isZero();
        }
        assertThat(fileOfAChunk).exists();
    }

    @Test
    void aSmallChunkLivesInItsRowUntilItGrowsPastTheLimit() {
        ChunkKey key = new ChunkKey(6, 0);
        byte[] head = bytes(1000, 6);
        byte[] tail = bytes(FILE_BACKED, 7);
        try (LocalCache cache = open()) {
            cache.chunks().write(key, 0, ByteBuffer.wrap(head));
            assertThat(dir.resolve("chunks/06/6-0")).doesNotExist();
            cache.chunks().write(key, 2000, ByteBuffer.wrap(tail));
            assertThat(dir.resolve("chunks/06/6-0")).exists();
        }
        byte[] expected = new byte[2000 + FILE_BACKED];
        System.arraycopy(head, 0, expected, 0, head.length);
        System.arraycopy(tail, 0, expected, 2000, tail.length);
        try (LocalCache cache = open()) {
            assertThat(read(cache, key, null)).isEqualTo(expected);
            assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(expected.length);
        }
    }

    @Test
    void aSmallChunkWrittenPieceByPieceHoldsEveryPieceAfterAReopen() {
        ChunkKey appended = new ChunkKey(8, 0);
        ChunkKey rewritten = new ChunkKey(9, 0);
        byte[] expected = bytes(9000, 8);
        expected[100] = 0; // zero bytes inside, as binary files have
        expected[5000] = 0;
        try (LocalCache cache = open()) {
            for (ChunkKey key : List.of(appended, rewritten)) {
                cache.chunks().write(key, 0, ByteBuffer.wrap(expected, 0, 4000)); // a new row
                cache.chunks().write(key, 4000, ByteBuffer.wrap(expected, 4000, 3000)); // appended
                cache.chunks().write(key, 7000, ByteBuffer.wrap(expected, 7000, 2000)); // appended
            }
            cache.chunks().write(rewritten, 10, ByteBuffer.wrap(new byte[] {42})); // rewritten in the middle
            assertThat(read(cache, appended, null)).isEqualTo(expected);
            assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(18_000);
        }
        byte[] changed = expected.clone();
        changed[10] = 42;
        try (LocalCache cache = open()) {
            assertThat(cache.chunks().length(appended)).isEqualTo(9000);
            assertThat(read(cache, appended, null)).isEqualTo(expected);
            assertThat(read(cache, rewritten, null)).isEqualTo(changed);
            assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(18_000);
            assertThat(cache.chunks().usage().totalBytes()).isEqualTo(18_000);
        }
    }

    /** Writes {@code content} into a new chunk as programs write files: a first piece, then appends. */
    private static void writeInPieces(LocalCache cache, ChunkKey key, byte[] content, int from, int to) {
        for (int at = from; at < to; at += at == 0 ? 1000 : 2000) {
            int n = Math.min(to - at, at == 0 ? 1000 : 2000);
            cache.chunks().write(key, at, ByteBuffer.wrap(content, at, n));
        }
    }

    private long appendLogSize() throws IOException {
        return Files.size(dir.resolve("appends.log"));
    }

    @Test
    void appendsToSmallChunksGoToTheLogAndSurviveAKill() throws IOException {
        ChunkKey key = new ChunkKey(30, 0);
        byte[] content = bytes(7000, 30);
        LocalCache cache = open();
        writeInPieces(cache, key, content, 0, content.length);
        assertThat(appendLogSize()).as("three appends in the log").isGreaterThan(6000);
        assertThat(read(cache, key, null)).isEqualTo(content);
        cache.closeAsAKillWould();

        try (LocalCache reopened = open()) {
            assertThat(appendLogSize()).as("taken into the index, then emptied").isZero();
            assertThat(read(reopened, key, null)).isEqualTo(content);
            assertThat(reopened.chunks().length(key)).isEqualTo(content.length);
            assertThat(reopened.chunks().usage().dirtyBytes()).isEqualTo(content.length);
            assertThat(reopened.chunks().dirtyChunks(30)).containsOnlyKeys(0);
        }
        try (LocalCache again = open()) { // and a clean stop leaves it in the row
            assertThat(read(again, key, null)).isEqualTo(content);
        }
    }

    @Test
    void appendsTheIndexTookBeforeAKillAreNotTakenAgainNorBroughtBack() throws IOException {
        ChunkKey cut = new ChunkKey(31, 0);
        ChunkKey dropped = new ChunkKey(32, 0);
        ChunkKey grown = new ChunkKey(33, 0);
        ChunkKey uploaded = new ChunkKey(34, 0);
        byte[] content = bytes(9000, 31);
        LocalCache cache = open();
        for (ChunkKey key : List.of(cut, dropped, grown, uploaded)) {
            writeInPieces(cache, key, content, 0, 5000);
            cache.chunks().force(key.fileId()); // a close: the row takes the appends
        }
        cache.chunks().truncate(31, 1000); // where the first append began: only its number tells it was taken
        cache.chunks().drop(32);
        writeInPieces(cache, grown, content, 5000, 9000); // logged again, after the ones the row took
        cache.chunks().markUploaded(34, null, "v1", cache.chunks().dirtyChunks(34));
        assertThat(appendLogSize()).as("the settled appends are still in the log").isGreaterThan(4 * 4000);
        cache.closeAsAKillWould();

        try (LocalCache reopened = open()) {
            assertThat(read(reopened, cut, null)).isEqualTo(Arrays.copyOf(content, 1000));
            assertThat(read(reopened, dropped, null)).isNull();
            assertThat(read(reopened, grown, null)).isEqualTo(content);
            assertThat(read(reopened, uploaded, "v1")).isEqualTo(Arrays.copyOf(content, 5000));
            assertThat(reopened.chunks().dirtyChunks(34)).isEmpty();
            assertThat(reopened.chunks().usage().dirtyBytes()).isEqualTo(1000 + 9000);
        }
    }

    @Test
    void aTornAppendAtTheEndOfTheLogIsLeftOutWithNothingAfterIt() throws IOException {
        ChunkKey key = new ChunkKey(35, 0);
        byte[] content = bytes(7000, 35);
        LocalCache cache = open();
        writeInPieces(cache, key, content, 0, content.length);
        cache.closeAsAKillWould();
        Path log = dir.resolve("appends.log");
        byte[] bytes = Files.readAllBytes(log);
        Files.write(log, Arrays.copyOf(bytes, bytes.length - 10)); // the last append cut short

        try (LocalCache reopened = open()) {
            assertThat(read(reopened, key, null)).isEqualTo(Arrays.copyOf(content, 5000));
        }
    }

    @Test
    void writesInTheMiddleCutsAndGrowthPastTheRowLimitTakeTheLoggedAppendsAlong() {
        ChunkKey rewritten = new ChunkKey(36, 0);
        ChunkKey spilled = new ChunkKey(36, 1);
        byte[] content = bytes(9000, 36);
        byte[] big = bytes(FILE_BACKED, 37);
        try (LocalCache cache = open()) {
            writeInPieces(cache, rewritten, content, 0, 9000);
            cache.chunks().write(rewritten, 10, ByteBuffer.wrap(new byte[] {42}));
            writeInPieces(cache, spilled, big, 0, 5000);
            cache.chunks().write(spilled, 5000, ByteBuffer.wrap(big, 5000, FILE_BACKED - 5000)); // to a file
            byte[] expected = content.clone();
            expected[10] = 42;
            assertThat(read(cache, rewritten, null)).isEqualTo(expected);
            assertThat(read(cache, spilled, null)).isEqualTo(big);
            cache.chunks().truncate(36, 8000);
            assertThat(read(cache, rewritten, null)).isEqualTo(Arrays.copyOf(expected, 8000));
        }
    }

    @Test
    void aChunkWrittenToItsEndIsSyncedInTheBackgroundAndAPartlyWrittenOneIsLeftToForce() {
        ArrayDeque<Runnable> syncs = new ArrayDeque<>();
        try (LocalCache cache = openSyncingOn(syncs)) {
            SqliteChunkStore chunks = (SqliteChunkStore) cache.chunks();
            ChunkKey full = new ChunkKey(10, 0);
            ChunkKey partial = new ChunkKey(10, 1);
            chunks.write(full, 0, ByteBuffer.wrap(bytes(FILE_BACKED, 10)));
            assertThat(syncs).isEmpty(); // not at its end yet
            chunks.write(full, FILE_BACKED, ByteBuffer.wrap(bytes(CS - FILE_BACKED, 11)));
            chunks.write(partial, 0, ByteBuffer.wrap(bytes(FILE_BACKED, 12)));
            ChunkKey spilled = new ChunkKey(10, 2);
            chunks.write(spilled, 0, ByteBuffer.wrap(bytes(1000, 13))); // in its row
            chunks.write(spilled, 1000, ByteBuffer.wrap(bytes(CS - 1000, 14))); // moves to a file, written to its end
            assertThat(syncs).hasSize(2);
            assertThat(chunks.isUnsynced(full)).isTrue();
            assertThat(chunks.isUnsynced(spilled)).isTrue();

            syncs.forEach(Runnable::run);
            assertThat(chunks.isUnsynced(full)).isFalse();
            assertThat(chunks.isUnsynced(spilled)).isFalse();
            assertThat(chunks.isUnsynced(partial)).isTrue();
            chunks.force(10);
            assertThat(chunks.isUnsynced(partial)).isFalse();
        }
    }

    @Test
    void afterARestartTheDirtyChunkFilesAreLeftToTheNextForce() {
        ChunkKey fileBacked = new ChunkKey(12, 0);
        ChunkKey inline = new ChunkKey(12, 1);
        ChunkKey clean = new ChunkKey(13, 0);
        try (LocalCache cache = openSyncingOn(new ArrayDeque<>())) {
            cache.chunks().write(fileBacked, 0, ByteBuffer.wrap(bytes(FILE_BACKED, 20)));
            cache.chunks().write(inline, 0, ByteBuffer.wrap(bytes(100, 21)));
            cache.chunks().putClean(clean, "e1", ByteBuffer.wrap(bytes(FILE_BACKED, 22)));
        } // no force: as a crash of the process leaves it, the chunk file maybe not on the disk yet
        try (LocalCache cache = openSyncingOn(new ArrayDeque<>())) {
            SqliteChunkStore chunks = (SqliteChunkStore) cache.chunks();
            assertThat(chunks.isUnsynced(fileBacked)).as("a dirty chunk file").isTrue();
            assertThat(chunks.isUnsynced(inline)).as("in its row: the index's own sync covers it").isFalse();
            assertThat(chunks.isUnsynced(clean)).as("clean: the bucket has it").isFalse();
            chunks.force(12);
            assertThat(chunks.isUnsynced(fileBacked)).isFalse();
            assertThat(read(cache, fileBacked, null)).isEqualTo(bytes(FILE_BACKED, 20));
        }
    }

    @Test
    void aWriteAfterTheBackgroundSyncWasQueuedLeavesTheChunkToForce() {
        ArrayDeque<Runnable> syncs = new ArrayDeque<>();
        try (LocalCache cache = openSyncingOn(syncs)) {
            SqliteChunkStore chunks = (SqliteChunkStore) cache.chunks();
            ChunkKey key = new ChunkKey(11, 0);
            chunks.write(key, 0, ByteBuffer.wrap(bytes(CS, 13)));
            chunks.write(key, 100, ByteBuffer.wrap(new byte[] {1, 2, 3})); // after the sync was queued
            assertThat(syncs).hasSize(1);

            syncs.poll().run();
            assertThat(chunks.isUnsynced(key)).isTrue();
            chunks.write(key, CS - 1, ByteBuffer.wrap(new byte[] {4})); // at its end again: queued again
            assertThat(syncs).hasSize(1);
            syncs.poll().run();
            assertThat(chunks.isUnsynced(key)).isFalse();
        }
    }
}

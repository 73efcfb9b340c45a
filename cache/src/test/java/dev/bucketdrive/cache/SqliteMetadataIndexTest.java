package dev.bucketdrive.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.local.Entry;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the SQLite index does beyond the contract of every {@code MetadataIndex}. */
class SqliteMetadataIndexTest {

    @TempDir
    Path dir;
    Database db;
    SqliteMetadataIndex index;

    @BeforeEach
    void open() {
        db = new Database(dir.resolve("index.db"));
        index = new SqliteMetadataIndex(db, id -> { });
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void anUpsertOfANameMemoryHoldsFreeUpdatesTheRowACommitPutThereMeanwhile() {
        assertThat(index.lookup("dir/a.txt")).isEmpty(); // memory now holds: no row
        // Another thread's commit that memory has not learnt of yet.
        db.update("INSERT INTO entries (path, parent, name, type, size, mtime_ms, mode, uid, gid, etag, listed_at_ms, "
                + "remote_size) VALUES ('dir/a.txt', 'dir', 'a.txt', 0, 1, 1000, 33188, 0, 0, '\"e\"', 0, 1)");
        long id = db.query("SELECT id FROM entries WHERE path = 'dir/a.txt'", rs -> rs.getLong(1)).getFirst();

        Entry stored = index.upsert(new Entry(0, "dir/a.txt", Entry.Type.FILE, 5, 2000, 0100600, 1000, 1000, null, 0));

        assertThat(stored.id()).isEqualTo(id);
        assertThat(stored.size()).isEqualTo(5);
        assertThat(db.query("SELECT count(*), max(size), max(mode) FROM entries WHERE path = 'dir/a.txt'",
                rs -> rs.getLong(1) + " " + rs.getLong(2) + " " + rs.getInt(3))).containsExactly("1 5 " + 0100600);
        assertThat(index.lookup("dir/a.txt")).contains(stored);
    }

    @Test
    void anUpsertOfANameMemoryHoldsFreeInsertsItsRow() {
        assertThat(index.lookup("b.txt")).isEmpty();
        Entry stored = index.upsert(new Entry(0, "b.txt", Entry.Type.FILE, 7, 2000, 0100644, 1000, 1000, null, 0));
        assertThat(stored.id()).isPositive();
        assertThat(index.byId(stored.id())).contains(stored);
        assertThat(db.query("SELECT size FROM entries WHERE path = 'b.txt'", rs -> rs.getLong(1))).containsExactly(7L);
    }
}

package dev.bucketdrive.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bucketdrive.core.local.CacheFullException;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Transactions and the statement cache under them. */
class DatabaseTest {

    @TempDir
    Path dir;
    Database db;

    @BeforeEach
    void open() {
        db = new Database(dir.resolve("index.db"));
        db.update("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
    }

    @AfterEach
    void close() {
        db.close();
    }

    private List<String> values() {
        return db.query("SELECT v FROM t ORDER BY k", rs -> rs.getString(1));
    }

    @Test
    void aStatementIsPreparedOnceAndComesBackWithoutItsParameters() {
        PreparedStatement[] seen = new PreparedStatement[2];
        for (int i = 0; i < 2; i++) {
            int n = i;
            db.transaction(c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (k, v) VALUES (?, ?)")) {
                    seen[n] = ps;
                    ps.setInt(1, n);
                    ps.setString(2, "v" + n);
                    ps.executeUpdate();
                }
                return null;
            });
        }
        assertThat(seen[1]).isSameAs(seen[0]);
        assertThat(values()).containsExactly("v0", "v1");
        db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (k, v) VALUES (?, ?)")) {
                return ps.executeUpdate(); // the parameters of the last use are gone: NULLs
            }
        });
        assertThat(values()).containsExactly("v0", "v1", null);
    }

    @Test
    void aTextStillInUseGetsAStatementOfItsOwn() {
        db.update("INSERT INTO t (k, v) VALUES (1, 'a'), (2, 'b')");
        List<String> pairs = db.read(c -> {
            List<String> out = new java.util.ArrayList<>();
            try (PreparedStatement outer = c.prepareStatement("SELECT v FROM t WHERE k >= ? ORDER BY k")) {
                outer.setInt(1, 1);
                try (ResultSet rs = outer.executeQuery()) {
                    while (rs.next()) {
                        try (PreparedStatement inner = c.prepareStatement("SELECT v FROM t WHERE k >= ? ORDER BY k")) {
                            assertThat(inner).isNotSameAs(outer);
                            inner.setInt(1, 2);
                            try (ResultSet r2 = inner.executeQuery()) {
                                r2.next();
                                out.add(rs.getString(1) + r2.getString(1));
                            }
                        }
                    }
                }
            }
            return out;
        });
        assertThat(pairs).containsExactly("ab", "bb");
    }

    @Test
    void aFailedTransactionLeavesNothingAndANestedOneJoinsItsOuter() {
        assertThatThrownBy(() -> db.transaction(c -> {
            db.update("INSERT INTO t (k, v) VALUES (1, 'kept?')");
            throw new IllegalStateException("boom");
        })).hasMessage("boom");
        assertThat(values()).isEmpty();
        db.transaction(c -> db.update("INSERT INTO t (k, v) VALUES (2, 'nested')"));
        db.update("INSERT INTO t (k, v) VALUES (3, 'after')");
        assertThat(values()).containsExactly("nested", "after");
    }

    @Test
    void aStatementOnItsOwnIsACommitTheNextSyncMakesDurable() {
        db.sync();
        assertThat(db.sync()).as("nothing committed since").isFalse();
        db.update("INSERT INTO t (k, v) VALUES (1, 'a')");
        assertThat(db.sync()).isTrue();
        db.transaction(c -> db.update("INSERT INTO t (k, v) VALUES (2, 'b')"));
        assertThat(db.sync()).isTrue();
        assertThat(db.sync()).isFalse();
    }

    @Test
    void aSyncAskedForInsideATransactionRunsOnceItCommitted() {
        db.sync();
        db.transaction(c -> {
            db.update("INSERT INTO t (k, v) VALUES (1, 'a')");
            assertThat(db.sync()).isTrue();
            return null;
        });
        assertThat(db.sync()).as("the transaction's own commit was synced when it returned").isFalse();
    }
    /**
     * A full disk fails a statement, or the commit, with SQLITE_FULL, and SQLite may roll the whole
     * transaction back by itself. Once there is room again, the same statements must work: before
     * session 29 the cached statements were left finalized ("statement is not executing") and every
     * later use failed until a restart. The page limit stands in for the disk.
     */
    @Test
    void aTransactionThatFindsTheDiskFullFailsAndTheIndexWorksOnceThereIsRoom() {
        db.transaction(c -> db.update("INSERT INTO t (k, v) VALUES (0, 'before')"));
        long pages = db.query("PRAGMA page_count", rs -> rs.getLong(1)).get(0);
        db.query("PRAGMA max_page_count = " + (pages + 2), rs -> rs.getLong(1));
        String big = "x".repeat(3000);
        assertThatThrownBy(() -> {
            for (int k = 1; k < 100; k++) {
                int key = k;
                db.transaction(c -> {
                    db.update("INSERT INTO t (k, v) VALUES (?, ?)", key, big);
                    return db.update("UPDATE t SET v = ? WHERE k = 0", "during " + key);
                });
            }
        }).as("answered as a full cache: ENOSPC").isInstanceOf(CacheFullException.class).hasMessageContaining("full");
        long last = db.query("SELECT max(k) FROM t", rs -> rs.getLong(1)).get(0);
        assertThat(last).as("some transactions committed first").isPositive();
        assertThat(values().get(0)).as("the failed one left nothing").isEqualTo("during " + last);
        db.query("PRAGMA max_page_count = 1000000", rs -> rs.getLong(1));
        db.transaction(c -> {
            db.update("INSERT INTO t (k, v) VALUES (?, ?)", 1000, big);
            return db.update("UPDATE t SET v = ? WHERE k = 0", "after");
        });
        db.update("INSERT INTO t (k, v) VALUES (1001, 'alone')");
        assertThat(values()).startsWith("after").endsWith(big, "alone");
    }
}

package dev.bucketdrive.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.local.ChunkStore;
import dev.bucketdrive.core.local.ChunkStoreContract;
import dev.bucketdrive.core.local.LocalTransactions;
import dev.bucketdrive.core.local.LocalTransactionsContract;
import dev.bucketdrive.core.local.MetadataIndex;
import dev.bucketdrive.core.local.MetadataIndexContract;
import dev.bucketdrive.core.local.UploadJournal;
import dev.bucketdrive.core.local.UploadJournalContract;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The local-store contracts against {@link LocalCache}. */
class LocalCacheContractsTest {

    @TempDir
    Path dir;
    LocalCache cache;

    @BeforeEach
    void open() {
        cache = LocalCache.open(CacheOptions.defaults(dir).withChunkSize(64 * 1024), Runnable::run);
    }

    /**
     * After each contract test, the statements it ran: every one that picks rows (a WHERE) finds them
     * through an index, so a lookup, an unlink or a rename costs the same in a drive of a hundred
     * entries as in one of a hundred thousand. Only statements over a whole table (no WHERE: the
     * journal at start, for the status and the drain; the chunk rows at start) read every row.
     */
    @AfterEach
    void close() {
        try {
            Database db = cache.database();
            for (String sql : db.statementTexts()) {
                if (sql.contains(" WHERE ")) {
                    assertThat(db.queryPlan(sql)).as(sql).noneMatch(step -> step.startsWith("SCAN "));
                }
            }
        } finally {
            cache.close();
        }
    }

    @Nested
    class Chunks extends ChunkStoreContract {
        @Override
        protected ChunkStore store() {
            return cache.chunks();
        }
    }

    @Nested
    class Journal extends UploadJournalContract {
        @Override
        protected UploadJournal journal() {
            return cache.journal();
        }
    }

    @Nested
    class Index extends MetadataIndexContract {
        @Override
        protected MetadataIndex index() {
            return cache.index();
        }
    }

    @Nested
    class Transactions extends LocalTransactionsContract {
        @Override
        protected LocalTransactions transactions() {
            return cache.transactions();
        }

        @Override
        protected MetadataIndex index() {
            return cache.index();
        }

        @Override
        protected UploadJournal journal() {
            return cache.journal();
        }

        @Override
        protected ChunkStore chunks() {
            return cache.chunks();
        }
    }
}

package dev.bucketdrive.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bucketdrive.core.store.Body;
import dev.bucketdrive.core.store.CopyOptions;
import dev.bucketdrive.core.store.ObjectInfo;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.store.ObjectSummary;
import dev.bucketdrive.core.store.PutOptions;
import dev.bucketdrive.core.store.StoreException;
import dev.bucketdrive.core.store.WriteCondition;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ObjectStore contract against S3Proxy's filesystem store, the one the demo and the benchmarks use. */
class S3ProxyFilesystemObjectStoreIT extends S3ProxyContract {

    @TempDir
    static Path dir;
    private static S3ProxyServer server;
    private static S3ObjectStore store;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("contract"));
        server = S3ProxyServer.onFilesystem(dir);
        server.createBucket("contract");
        store = S3ObjectStore.create(server.options("contract").build());
    }

    @AfterAll
    static void stop() throws Exception {
        if (store != null) {
            store.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected ObjectStore store() {
        return store;
    }

    /** Each key component is a file or directory name there. */
    @Override
    protected boolean longKeyComponentsSupported() {
        return false;
    }

    /**
     * A file put into the store's directory by other means has no ETag there, in listings, HEAD and
     * GET alike. The store makes up one version for it that all three show, and conditions on that
     * version work: readdir of such a directory failed with EIO before (a null ETag in the listing).
     */
    @Test
    void anObjectWithoutAnETagHasOneVersionThatConditionsWorkOn() throws Exception {
        Path file = dir.resolve("contract/no-etag/outside.txt");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "put there by hand");
        String key = "no-etag/outside.txt";

        ObjectSummary listed = store.list("no-etag/", "/", null, 1000).objects().getFirst();
        ObjectInfo head = store.head(key);
        assertThat(listed.etag()).isNotBlank().isEqualTo(head.etag());
        assertThat(new String(store.get(key, 0, 100, head.etag()).data(), StandardCharsets.UTF_8))
                .isEqualTo("put there by hand");
        String stale = head.etag().substring(0, head.etag().lastIndexOf('-')) + "-1"; // the same size, long ago
        assertThatThrownBy(() -> store.get(key, 0, 100, stale)).isInstanceOfSatisfying(StoreException.class,
                e -> assertThat(e.kind()).isEqualTo(StoreException.Kind.PRECONDITION_FAILED));

        store.copy(key, "no-etag/copy.txt", new CopyOptions(head.etag(), null, null));
        assertThatThrownBy(() -> store.copy(key, "no-etag/copy2.txt", new CopyOptions(stale, null, null)))
                .isInstanceOfSatisfying(StoreException.class,
                        e -> assertThat(e.kind()).isEqualTo(StoreException.Kind.PRECONDITION_FAILED));
        assertThatThrownBy(() -> store.put(key, Body.of(bytes("lost")), new PutOptions(null, Map.of(),
                WriteCondition.ifMatch(stale)))).isInstanceOfSatisfying(StoreException.class,
                e -> assertThat(e.kind()).isEqualTo(StoreException.Kind.PRECONDITION_FAILED));
        String replaced = store.put(key, Body.of(bytes("replaced")), new PutOptions(null, Map.of(),
                WriteCondition.ifMatch(head.etag())));
        assertThat(replaced).isNotBlank().isNotEqualTo(head.etag()).isEqualTo(store.head(key).etag());
        assertThat(store.get(key, 0, 100, replaced).data()).isEqualTo(bytes("replaced"));
        assertThat(store.get("no-etag/copy.txt", 0, 100, null).data()).isEqualTo(bytes("put there by hand"));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

package dev.bucketdrive.s3;

import dev.bucketdrive.core.store.ObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
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
}

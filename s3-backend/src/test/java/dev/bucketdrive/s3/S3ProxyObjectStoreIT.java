package dev.bucketdrive.s3;

import dev.bucketdrive.core.store.ObjectStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/** The ObjectStore contract against S3Proxy over real HTTP with signature checks, both checksum modes. */
class S3ProxyObjectStoreIT {

    private static S3ProxyServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = new S3ProxyServer();
        server.createBucket("contract");
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    private abstract static class WithMode extends S3ProxyContract {
        private final S3ObjectStore store;

        WithMode(S3Options.ChecksumMode mode) {
            store = S3ObjectStore.create(server.options("contract").checksums(mode).build());
        }

        @Override
        protected ObjectStore store() {
            return store;
        }
    }

    /** What the drive uses for a non-AWS endpoint: checksums only where an operation requires one. */
    @Nested
    class ChecksumsWhenRequired extends WithMode {
        ChecksumsWhenRequired() {
            super(S3Options.ChecksumMode.WHEN_REQUIRED);
        }
    }

    /** The SDK's default for AWS: CRC checksums on every request that supports one. */
    @Nested
    class ChecksumsWhenSupported extends WithMode {
        ChecksumsWhenSupported() {
            super(S3Options.ChecksumMode.WHEN_SUPPORTED);
        }
    }
}

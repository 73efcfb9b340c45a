package dev.bucketdrive.it;

import dev.bucketdrive.s3.S3Options;
import dev.bucketdrive.s3.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The mount scenarios against an S3Proxy in this JVM (runs everywhere FUSE does). */
class MountIT extends MountScenarios {

    static S3ProxyServer server;

    @BeforeAll
    static void startServer() throws Exception {
        MountFixture.assumeFuse();
        server = new S3ProxyServer();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected S3Options createBucket(String bucket) {
        server.createBucket(bucket);
        return server.options(bucket).build();
    }
}

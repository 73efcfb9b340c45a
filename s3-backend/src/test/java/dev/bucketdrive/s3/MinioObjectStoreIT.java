package dev.bucketdrive.s3;

import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.store.ObjectStoreContract;
import java.net.URI;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

/** The ObjectStore contract against MinIO. Skipped (not failed) where no Docker engine runs. */
@Testcontainers(disabledWithoutDocker = true)
class MinioObjectStoreIT extends ObjectStoreContract {

    @Container
    static final MinIOContainer MINIO = new MinIOContainer(ContainerBuckets.MINIO_IMAGE);

    private static S3ObjectStore store;

    @BeforeAll
    static void connect() {
        S3Options options = ContainerBuckets.create(URI.create(MINIO.getS3URL()), MINIO.getUserName(),
                MINIO.getPassword(), "us-east-1", "contract");
        store = S3ObjectStore.create(options);
    }

    @AfterAll
    static void disconnect() {
        if (store != null) {
            store.close();
        }
    }

    @Override
    protected ObjectStore store() {
        return store;
    }
}

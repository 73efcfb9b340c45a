package dev.bucketdrive.it;

import dev.bucketdrive.s3.ContainerBuckets;
import dev.bucketdrive.s3.S3Options;
import java.net.URI;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

/** The mount scenarios against MinIO. Skipped (not failed) where no Docker engine runs. */
@Testcontainers(disabledWithoutDocker = true)
class MinioMountIT extends MountScenarios {

    @Container
    static final MinIOContainer MINIO = new MinIOContainer(ContainerBuckets.MINIO_IMAGE);

    @Override
    protected S3Options createBucket(String bucket) {
        return ContainerBuckets.create(URI.create(MINIO.getS3URL()), MINIO.getUserName(), MINIO.getPassword(),
                "us-east-1", bucket);
    }
}

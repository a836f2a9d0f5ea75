package dev.gvshim.diagnose;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IoErrorTest {
    @Test
    void reasonsAreTheSystemsTextNotJavaClassNames() {
        assertThat(IoError.withFile(new AccessDeniedException("/tmp/x/state-demo"))).isEqualTo("/tmp/x/state-demo: permission denied");
        assertThat(IoError.withFile(new FileSystemException("/f", null, "No space left on device")))
                .isEqualTo("/f: no space left on device");
        assertThat(IoError.withFile(new java.io.IOException("boom"))).isEqualTo("boom");
        assertThat(IoError.reason(new java.io.IOException(new IllegalStateException("x")))).isEqualTo("input/output error");
    }

    @Test
    void aMissingDirectoryAboveTheSubjectIsNamed(@TempDir Path tmp) {
        Path config = tmp.resolve("r2/config.json");
        assertThat(IoError.reason(new NoSuchFileException(config.toString()), config))
                .isEqualTo("the directory " + tmp.resolve("r2") + " does not exist");
        assertThat(IoError.reason(new AccessDeniedException("/srv"), config)).isEqualTo("permission denied (/srv)");
    }
}

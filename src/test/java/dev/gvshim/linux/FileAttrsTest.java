package dev.gvshim.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two ways messages show a file's owner and mode, and lstat's type. */
class FileAttrsTest {
    @Test
    void octalModesKeepTheSpecialBits() {
        assertThat(FileAttrs.octal(0040755)).isEqualTo("0755");
        assertThat(FileAttrs.octal(0104755)).isEqualTo("4755");
        assertThat(FileAttrs.octal(01777)).isEqualTo("1777");
    }

    @Test
    void describesAsTheStateDirectoryChecksAndAsLsDoes(@TempDir Path tmp) throws Exception {
        Path d = Files.createDirectory(tmp.resolve("d"));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
        int uid = (Integer) Files.getAttribute(d, "unix:uid");
        String name = Files.getOwner(d).getName();
        FileAttrs a = FileAttrs.of(d);
        assertThat(a.dir()).isTrue();
        assertThat(a.symlink()).isFalse();
        assertThat(FileAttrs.describe(d)).isEqualTo(d + " (owner " + name + " (uid " + uid + "), mode 0700)");
        assertThat(FileAttrs.ownerAndMode(d)).isEqualTo("owner " + name + ", mode rwx------");
        Path link = Files.createSymbolicLink(tmp.resolve("l"), d);
        assertThat(FileAttrs.of(link).symlink()).as("lstat: the link itself").isTrue();
        assertThat(FileAttrs.describe(tmp.resolve("gone"))).isEqualTo(tmp.resolve("gone").toString());
        assertThatThrownBy(() -> FileAttrs.ownerAndMode(tmp.resolve("gone"))).isInstanceOf(NoSuchFileException.class);
    }
}

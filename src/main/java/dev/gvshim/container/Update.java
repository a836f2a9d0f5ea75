package dev.gvshim.container;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.file.Files;

/** `update`: runsc 2022-12 has none; the resources given are checked, then the refusal says what to do instead. */
public final class Update {
    private Update() {
    }

    public static int run(RuntimeCall rc, String id, String resources) throws GvshimException {
        rc.lookup.existing(id);
        if (resources != null) {
            try {
                byte[] json = resources.equals("-") ? rc.call.stdio().in().readAllBytes()
                        : Files.readAllBytes(rc.call.absolute(resources));
                JsonTree.read(json);
            } catch (JsonProcessingException e) {
                throw RuntimeFailures.args("cannot parse --resources: " + JsonTree.plainMessage(e));
            } catch (IOException e) {
                throw RuntimeFailures.args("cannot read --resources " + resources + ": " + IoError.reason(e));
            }
        }
        throw RuntimeFailures.of("UPDATE_UNSUPPORTED",
                "cannot update " + id + ": runsc 2022-12 fixes a sandbox's resources when it is created"
                + " (it has no update command); recreate the container with the new limits");
    }
}

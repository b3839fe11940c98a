"""`minise train` stopped by SIGKILL, SIGTERM, Ctrl-C and a double Ctrl-C, mid-save and mid-epoch, then
resumed: it ends bit-identical to an uninterrupted run. The random version of this loop is
tests/kill_loop.py (run it by hand: python tests/kill_loop.py --trials 20)."""
import kill_loop


def test_stops_mid_save_and_mid_epoch_then_resume_end_bit_identical(tmp_path):
    expected = kill_loop.reference(str(tmp_path))
    stops = [("kill", "save"),                 # killed while the first last.npz is being written
             ("double ctrl-c", "save"),        # two Ctrl-Cs during a save
             ("ctrl-c", "save"),               # one Ctrl-C during a save: it completes, then stops
             ("sigterm", "save"),              # SIGTERM during a save: as one Ctrl-C
             ("ctrl-c", 2.5)]                  # one Ctrl-C somewhere in an epoch
    same, _ = kill_loop.trial(str(tmp_path), 0, stops, expected)
    assert same

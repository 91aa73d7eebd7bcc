"""A reboot in the middle of a HIL run: the board comes back with its saved config."""


def test_reboot_mid_run_resumes_with_the_saved_config(dut):
    dut.expect("set p_max_cooling 110", r"^ok p_max_cooling=110")
    dut.expect("save", r"^ok")
    dut.expect("hil lockstep 50", r"^ok hil=lockstep")
    for _ in range(20):
        dut.step(1000, 27.6, 0.55)
    dut.link.command("reboot")
    boot = dut.link.wait_for("!boot", 30.0)
    assert "config=current" in boot
    try:
        # Back on its own clock and drivers, with the saved values, HIL still allowed.
        dut.expect("get p_max_cooling", r"^ok p_max_cooling=110")
        dut.expect("hil lockstep 50", r"^ok hil=lockstep")
        for _ in range(30):
            fields = dut.step(1000, 27.6, 0.55)
        assert fields["state"] == "auto"
        assert float(fields["popt"]) <= 110.0 + 1e-6
    finally:
        dut.send("hil off")
        dut.send("defaults")
        dut.send("save")  # leave the board's flash as the other tests expect it

"""The local AWS's server around moto: every request's front door (control.py: the snapshot
gate, the pump's wake, the /_local/ control calls), faults on purpose (faults.py), moto's
dispatcher remembering its backend per host (dispatch.py), and the one clock of every
emulation (clock.py). local/local_aws.py assembles it; local/moto_patches/ lists the patches.
"""

"""What a Meta-World family reads of its physics: `Physics`, the kinematics of N simulations
at one moment (from a batch, or from one MjData), looked up by the model's names; and
`Scratch`, one MjData a family's reset runs on exactly as Meta-World's reset_model does.
"""

from __future__ import annotations

import mujoco
import numpy as np

FRAME_SKIP = 5
HAND_RESET_STEPS = 50  # SawyerXYZEnv._reset_hand's default
MOCAP_QUAT = np.array([1.0, 0.0, 1.0, 0.0])  # the orientation Meta-World gives the mocap every step
# the arrays Physics reads: each (N, n, ...) for N simulations
FIELDS = ("xpos", "xquat", "site_xpos", "site_xmat", "geom_xpos", "geom_xmat", "qpos", "qvel")


class Physics:
    """Positions, orientations and joint values of N simulations of one model (arrays of FIELDS)."""

    def __init__(
        self, model: mujoco.MjModel, arrays: dict[str, np.ndarray], ids: dict[tuple[str, str], int] | None = None
    ) -> None:
        self.model = model
        self.arrays = arrays
        self.n = len(arrays["xpos"])
        self.ids = {} if ids is None else ids  # (kind, name) -> index, shared by the readings of one model

    @staticmethod
    def of_data(model: mujoco.MjModel, data: mujoco.MjData) -> Physics:
        """The readings of one MjData as a Physics of one simulation (copies)."""
        return Physics(model, {name: np.array(getattr(data, name))[None] for name in FIELDS})

    def _id(self, kind: str, name: str) -> int:
        key = (kind, name)
        if key not in self.ids:
            self.ids[key] = int(getattr(self.model, kind)(name).id)
        return self.ids[key]

    def body(self, name: str) -> np.ndarray:
        """The body's position (N, 3): Meta-World's get_body_com and data.body(name).xpos."""
        return self.arrays["xpos"][:, self._id("body", name)]

    def body_quat(self, name: str) -> np.ndarray:
        """The body's orientation (N, 4), MuJoCo's w, x, y, z (data.body(name).xquat)."""
        return self.arrays["xquat"][:, self._id("body", name)]

    def site(self, name: str) -> np.ndarray:
        return self.arrays["site_xpos"][:, self._id("site", name)]

    def site_matrix(self, name: str) -> np.ndarray:
        """The site's rotation matrices (N, 9), row-major."""
        return self.arrays["site_xmat"][:, self._id("site", name)]

    def geom(self, name: str) -> np.ndarray:
        return self.arrays["geom_xpos"][:, self._id("geom", name)]

    def geom_matrix(self, name: str) -> np.ndarray:
        return self.arrays["geom_xmat"][:, self._id("geom", name)]

    def joint(self, name: str) -> np.ndarray:
        """A hinge or slide joint's position (N,)."""
        return self.arrays["qpos"][:, int(self.model.joint(name).qposadr[0])]

    @property
    def hand(self) -> np.ndarray:
        """Meta-World's end-effector position (get_endeff_pos, observation 0:3)."""
        return self.body("hand")

    @property
    def tcp(self) -> np.ndarray:
        """Between the two fingertips (Meta-World's tcp_center)."""
        centre: np.ndarray = (self.site("rightEndEffector") + self.site("leftEndEffector")) / 2.0
        return centre

    @property
    def gripper_open(self) -> np.ndarray:
        """The claws' distance apart over 0.1, clipped to [0, 1] (observation 3)."""
        claws = self.body("rightclaw") - self.body("leftclaw")
        apart: np.ndarray = np.clip(np.sqrt(np.sum(claws * claws, axis=1)) / 0.1, 0.0, 1.0)
        return apart

    @property
    def left_pad(self) -> np.ndarray:
        return self.body("leftpad")

    @property
    def right_pad(self) -> np.ndarray:
        return self.body("rightpad")

    def take(self, rows: np.ndarray) -> Physics:
        return Physics(self.model, {name: values[rows] for name, values in self.arrays.items()}, self.ids)


class Scratch:
    """One simulation of a family's model on which its reset runs, with the helpers Meta-World's
    reset_model calls (SawyerXYZEnv's and gymnasium's MujocoEnv's), doing what they do."""

    def __init__(self, model: mujoco.MjModel, hand_init: np.ndarray) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        self.hand_init = hand_init
        self.mocap = int(model.body_mocapid[model.body("mocap").id])
        self.init_tcp = np.zeros(3)

    def reset_hand(self) -> None:
        """SawyerXYZEnv._reset_hand: hold the mocap at the hand's start, fingers open, for 50 env steps."""
        for _ in range(HAND_RESET_STEPS):
            self.data.mocap_pos[self.mocap] = self.hand_init
            self.data.mocap_quat[self.mocap] = MOCAP_QUAT
            self.data.ctrl[:] = (-1.0, 1.0)
            mujoco.mj_step(self.model, self.data, nstep=FRAME_SKIP)
        self.init_tcp = self.tcp()

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """gymnasium's MujocoEnv.set_state: joint positions and velocities, then kinematics."""
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        mujoco.mj_forward(self.model, self.data)

    def set_object(self, position: np.ndarray) -> None:
        """SawyerXYZEnv._set_obj_xyz: the object's free joint at `position`, at rest."""
        qpos, qvel = self.data.qpos.copy(), self.data.qvel.copy()
        qpos[9:12] = position
        qvel[9:15] = 0.0
        self.set_state(qpos, qvel)

    def set_joint(self, name: str, position: float) -> None:
        """A family's own _set_obj_xyz for a hinge or slide: that joint at `position`, at rest."""
        joint = self.model.joint(name)
        qpos, qvel = self.data.qpos.copy(), self.data.qvel.copy()
        qpos[int(joint.qposadr[0])] = position
        qvel[int(joint.dofadr[0])] = 0.0
        self.set_state(qpos, qvel)

    def tcp(self) -> np.ndarray:
        centre: np.ndarray = (self.site("rightEndEffector") + self.site("leftEndEffector")) / 2.0
        return centre

    def site(self, name: str) -> np.ndarray:
        """A copy of the site's position now (Meta-World's _get_site_pos)."""
        return np.array(self.data.site(name).xpos)

    def body(self, name: str) -> np.ndarray:
        """A copy of the body's position now; Meta-World's get_body_com is a live view, which
        a family whose reset keeps one must account for."""
        return np.array(self.data.body(name).xpos)

    def geom(self, name: str) -> np.ndarray:
        return np.array(self.data.geom(name).xpos)

    def physics(self) -> Physics:
        return Physics.of_data(self.model, self.data)

"""The settings of a run that may change while it trains: what train.balance = auto acts on.

Factors on G's and D's learning rates (on top of the schedule's), D steps per G step, the bound
of D's accuracy below which G pauses, and an augmentation switched on for an overfitting D.
They start at the config's values and are saved in checkpoints, so a resumed run goes on with
what the controller had set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Controls:
    g_lr: float = 1.0  # factor on G's learning rate
    d_lr: float = 1.0  # factor on D's learning rate
    d_steps: int = 1  # D steps per G step (after train.d_steps_start's phase)
    g_pause_below: float = 0.0  # >0: G waits while D's accuracy is below this
    r1_gamma: float = 0.0  # the R1 penalty's gamma on D (loss.r1_gamma)
    beta1: float = -1.0  # >= 0: Adam's beta1 of both optimisers (less momentum); -1 = the config's
    augment_policy: str = ""  # "" = the config's augmentation; else switched on with ADA at run time
    augment_target: float = 0.0

    @classmethod
    def from_config(cls, cfg) -> Controls:
        return cls(d_steps=cfg.train.d_steps, g_pause_below=cfg.train.g_pause_below, r1_gamma=cfg.loss.r1_gamma)

    def state_dict(self) -> dict:
        return asdict(self)

    def load_state_dict(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, type(getattr(self, k))(v))

    def apply_augment(self, augment) -> None:
        """Switch on the controller's augmentation (ADA from p = 0) if it chose one."""
        if self.augment_policy and not augment.enabled:
            augment.switch_on(self.augment_policy, self.augment_target)

"""汇报起草助手 (huibao): drafting assistant for annual work reports of Chinese government offices."""

__version__ = "0.1.0"

"""What every service process does first."""

from paysaga.platform.logging import configure_logging
from paysaga.platform.metrics import configure_metrics
from paysaga.platform.settings import PlatformSettings
from paysaga.platform.tracing import configure_tracing


def init_process(service: str, platform: PlatformSettings) -> None:
    configure_logging(service, level=platform.paysaga_log_level, fmt=platform.paysaga_log_format)
    configure_tracing(service, zipkin_url=platform.paysaga_zipkin_url, sample_ratio=platform.paysaga_trace_sample_ratio)
    configure_metrics(service)

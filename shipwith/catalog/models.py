from decimal import Decimal

from django.db import models
from django.urls import reverse


class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("web:category", args=[self.slug])


class Vendor(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    homepage = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LicenceKind(models.TextChoices):
    OPEN_WEIGHTS = "open_weights", "Open weights"
    OPEN_SOURCE = "open_source", "Open source"
    PROPRIETARY = "proprietary", "Proprietary"


class Deployment(models.TextChoices):
    SELF_HOSTED = "self_hosted", "Self-host"
    API = "api", "Hosted API / SaaS"
    BOTH = "both", "Self-host or hosted API"


class PriceKind(models.TextChoices):
    FREE = "free", "Free"
    AMOUNT = "amount", "Fixed amount"
    USAGE = "usage", "Usage-based"
    CONTACT = "contact", "Contact sales"


class Period(models.TextChoices):
    MONTH = "month", "per month"
    YEAR = "year", "per year"
    ONCE = "once", "one-time"


PERIOD_SHORT = {Period.MONTH: "/mo", Period.YEAR: "/yr", Period.ONCE: " once"}
CURRENCY_SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£"}


def format_price(amount: Decimal | None, currency: str, period: str = "", unit: str = "") -> str:
    """Render an amount the way readers scan it: "$20/mo", "$0.40 per 1M tokens"."""
    if amount is None:
        return ""
    number = f"{amount:,.2f}".removesuffix(".00")
    symbol = CURRENCY_SYMBOL.get(currency)
    text = f"{symbol}{number}" if symbol else f"{number} {currency}"
    if unit:
        return f"{text} per {unit}"
    return text + PERIOD_SHORT.get(period, "")


class ToolQuerySet(models.QuerySet):
    def with_relations(self) -> "ToolQuerySet":
        return self.select_related("category", "vendor").prefetch_related("tags")


class Tool(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="tools"
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="tools")
    tagline = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    licence = models.CharField(max_length=120, blank=True, help_text="e.g. Apache-2.0")
    licence_kind = models.CharField(max_length=20, choices=LicenceKind.choices, blank=True)
    homepage = models.URLField(blank=True)
    release_date = models.DateField(null=True, blank=True)
    deployment = models.CharField(
        max_length=20,
        choices=Deployment.choices,
        blank=True,
        help_text="Can readers run it themselves, call it as a service, or both?",
    )
    price_kind = models.CharField(
        "entry price",
        max_length=10,
        choices=PriceKind.choices,
        blank=True,
        help_text="Leave empty when the entry price is not known: never guess a price.",
    )
    price_amount = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    price_currency = models.CharField(max_length=3, default="USD", blank=True)
    price_period = models.CharField(max_length=10, choices=Period.choices, blank=True)
    price_unit = models.CharField(
        max_length=60, blank=True, help_text='For usage prices, e.g. "1M input tokens".'
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tools")
    aliases = models.TextField(
        blank=True,
        help_text="Other names readers, reviewers and sources use for this tool, one per line.",
    )
    # External identifiers: exact keys that match a discovered item to this tool.
    huggingface_id = models.CharField(
        "Hugging Face id", max_length=200, blank=True, help_text='e.g. "Qwen/Qwen2.5-7B-Instruct"'
    )
    openrouter_slug = models.CharField(
        "OpenRouter slug", max_length=200, blank=True, help_text='e.g. "openai/gpt-4o"'
    )
    github_repo = models.CharField(
        "GitHub repository", max_length=140, blank=True, help_text='"owner/repo"'
    )
    homepage_domain = models.CharField(
        max_length=200, blank=True, help_text="The homepage's host without www., kept by imports."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ToolQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_amount__isnull=True) | models.Q(price_amount__gte=0),
                name="tool_price_not_negative",
            ),
            *(
                models.UniqueConstraint(
                    fields=[field],
                    condition=~models.Q(**{field: ""}),
                    name=f"tool_unique_{field}",
                )
                for field in ("huggingface_id", "openrouter_slug", "github_repo")
            ),
        ]
        # The API's /changes: tools added since a time, oldest first.
        indexes = [models.Index(fields=["created_at", "id"], name="catalog_tool_created_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("web:tool", args=[self.slug])

    @property
    def alias_list(self) -> list[str]:
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]

    @property
    def entry_price(self) -> str:
        """The card's *Entry* figure: "Free", "$20/mo", "Contact sales", or "" when unknown."""
        if self.price_kind == PriceKind.FREE:
            return "Free"
        if self.price_kind == PriceKind.CONTACT:
            return "Contact sales"
        if self.price_kind in (PriceKind.AMOUNT, PriceKind.USAGE):
            return format_price(
                self.price_amount, self.price_currency, self.price_period, self.price_unit
            )
        return ""


class PaidTier(models.Model):
    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=80)
    amount = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    period = models.CharField(max_length=10, choices=Period.choices, blank=True)
    unit = models.CharField(max_length=60, blank=True)
    notes = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                name="tier_price_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tool} — {self.name}"

    @property
    def price(self) -> str:
        return format_price(self.amount, self.currency, self.period, self.unit) or "Contact sales"


class Source(models.Model):
    """A page a tool's facts come from; its snapshot is the text reviewers may quote."""

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="sources")
    url = models.URLField(max_length=500)
    title = models.CharField(max_length=200, blank=True)
    checked_on = models.DateField(
        null=True, blank=True, help_text="The day the page was last fetched; empty until then."
    )
    # Validators of the last fetch, for conditional GETs (If-None-Match / If-Modified-Since).
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    snapshot = models.TextField(
        blank=True, help_text="Plain text of what the page says; reviewers quote from it."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title or self.url


class PriceChange(models.Model):
    """A tool's price as it was and became: kept as history, shown on the tool page.

    Giving way to FactChange (`input_price_per_mtok`, `output_price_per_mtok`), into which
    migration 0006 copied its rows; it stays until its readers and its writer have moved.
    """

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="price_changes")
    field = models.CharField(max_length=40, help_text='The changed fact, e.g. "price_amount".')
    old = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    new = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    unit = models.CharField(max_length=60, blank=True, help_text='e.g. "1M input tokens".')
    changed_at = models.DateTimeField()
    source = models.CharField(
        max_length=500, blank=True, help_text="Where the new price was read (source and URL)."
    )

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.tool}: {self.text}"

    @property
    def text(self) -> str:
        """ "$0.15 → $0.20 per 1M input tokens"; the page adds the date."""
        old = format_price(self.old, self.currency) or "no price"
        new = format_price(self.new, self.currency, unit=self.unit) or "no price"
        return f"{old} → {new}"


class Fact(models.Model):
    """What one source says a tool's fact is, and when it was last read there.

    One row per (tool, key, source): two sources that disagree are both kept, and the pages
    choose between them (catalog.selectors). Written only through `services.facts_record`,
    which keeps the history in FactChange. The value is the registry's text (catalog.facts).
    """

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="facts")
    key = models.CharField(max_length=40, help_text="A key of the registry in catalog/facts.py.")
    value = models.CharField(max_length=500)
    source_url = models.URLField(
        "source", max_length=500, blank=True, help_text="Empty when the source is not known."
    )
    source_title = models.CharField(max_length=200, blank=True)
    read_at = models.DateTimeField(help_text="When the source last said this value.")
    changed_at = models.DateTimeField(help_text="When the source first said this value.")

    class Meta:
        ordering = ["tool_id", "key", "source_url"]
        constraints = [
            models.UniqueConstraint(
                fields=["tool", "key", "source_url"], name="fact_one_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tool}: {self.key} = {self.value}"


class FactChange(models.Model):
    """A fact as one source said it before and after: kept as history, shown on the pages.

    `old` is empty the first time a source gives the fact, `new` when it stops giving it (no
    value of the registry is empty text).
    """

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="fact_changes")
    key = models.CharField(max_length=40)
    old = models.CharField(max_length=500, blank=True)
    new = models.CharField(max_length=500, blank=True)
    source_url = models.URLField("source", max_length=500, blank=True)
    source_title = models.CharField(max_length=200, blank=True)
    read_at = models.DateTimeField(help_text="When the source was read saying the new value.")

    class Meta:
        ordering = ["-read_at", "-pk"]
        indexes = [
            models.Index(fields=["tool", "-read_at", "-id"], name="catalog_factchange_tool_idx"),
            # The verdicts feed and the API's /changes read the newest changes of every tool.
            models.Index(fields=["-read_at", "-id"], name="catalog_factchange_news_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tool}: {self.key} {self.old} → {self.new}"
